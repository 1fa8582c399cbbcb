import { describe, expect, it } from 'vitest'
import { ACCOUNT_FIELDS, VISIT_FIELDS, setupText } from '../../src/main/core/sync/salesforce-schema'
import { setupMetadataFiles } from '../../src/main/core/sync/setup-metadata'

describe('the setup metadata package (footfall sf-metadata)', () => {
  const files = setupMetadataFiles('62.0')

  it('has a field file for every field sf-check requires, named and typed as required', () => {
    for (const [object, fields] of [
      ['Account', ACCOUNT_FIELDS],
      ['Footfall_Visit__c', VISIT_FIELDS],
    ] as const) {
      for (const field of fields) {
        const xml = files.get(
          `force-app/main/default/objects/${object}/fields/${field.name}.field-meta.xml`,
        )
        expect(xml, `${object}.${field.name}`).toBeDefined()
        expect(xml).toContain(`<fullName>${field.name}</fullName>`)
        expect(xml).toContain(`<type>${field.shape.kind}</type>`)
        if ('length' in field.shape) expect(xml).toContain(`<length>${field.shape.length}</length>`)
        if ('precision' in field.shape)
          expect(xml).toContain(`<precision>${field.shape.precision}</precision>`)
      }
    }
    expect(
      files.get(
        'force-app/main/default/objects/Footfall_Visit__c/fields/Visit_Key__c.field-meta.xml',
      ),
    ).toContain('<externalId>true</externalId>')
    expect(setupText(VISIT_FIELDS[0]!.shape)).toBe('Text(80), External ID, Unique')
  })

  it('opens and closes every element it writes', () => {
    for (const [path, text] of files) {
      if (!path.endsWith('.xml')) continue
      const stack: string[] = []
      for (const m of text.matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
        const [, closing, name, selfClosing] = m
        if (selfClosing || !name) continue
        if (closing) expect([path, stack.pop()]).toEqual([path, name])
        else stack.push(name)
      }
      expect([path, stack]).toEqual([path, []])
    }
  })

  it('grants the integration user every field it writes', () => {
    const permissions =
      files.get(
        'force-app/main/default/permissionsets/Footfall_Integration.permissionset-meta.xml',
      ) ?? ''
    for (const f of ACCOUNT_FIELDS)
      expect(permissions).toContain(`<field>Account.${f.name}</field>`)
    for (const f of VISIT_FIELDS)
      expect(permissions).toContain(`<field>Footfall_Visit__c.${f.name}</field>`)
  })
})
