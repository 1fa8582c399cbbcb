import { ACCOUNT_FIELDS, VISIT_FIELDS, VISIT_OBJECT } from './salesforce-schema'
import type { FieldShape, RequiredField } from './salesforce-schema'

/**
 * The admin's setup as a Salesforce DX project (source format): the Account fields, the
 * Footfall_Visit__c object with its fields, and a permission set for the integration user.
 * Deploy with `sf project deploy start --source-dir force-app` (README: Salesforce setup).
 */
const NS = 'http://soap.sforce.com/2006/04/metadata'
const ROOT = 'force-app/main/default'

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function shapeXml(shape: FieldShape): string[] {
  switch (shape.kind) {
    case 'Number':
    case 'Currency':
      return [
        `<type>${shape.kind}</type>`,
        `<precision>${shape.precision}</precision>`,
        `<scale>${shape.scale}</scale>`,
      ]
    case 'DateTime':
      return ['<type>DateTime</type>']
    case 'Text':
      return [
        '<type>Text</type>',
        `<length>${shape.length}</length>`,
        ...(shape.externalId
          ? [
              '<externalId>true</externalId>',
              '<unique>true</unique>',
              '<caseSensitive>true</caseSensitive>',
            ]
          : []),
      ]
    case 'LongTextArea':
      return [
        '<type>LongTextArea</type>',
        `<length>${shape.length}</length>`,
        '<visibleLines>10</visibleLines>',
      ]
    case 'Lookup':
      return [
        '<type>Lookup</type>',
        `<referenceTo>${shape.referenceTo}</referenceTo>`,
        `<relationshipName>${shape.relationshipName}</relationshipName>`,
        `<relationshipLabel>Footfall Visits</relationshipLabel>`,
        '<deleteConstraint>SetNull</deleteConstraint>',
      ]
    case 'Picklist':
      return [
        '<type>Picklist</type>',
        '<valueSet><restricted>true</restricted><valueSetDefinition><sorted>false</sorted>',
        ...shape.values.map(
          (v, i) =>
            `<value><fullName>${v}</fullName><default>${i === 0}</default><label>${v}</label></value>`,
        ),
        '</valueSetDefinition></valueSet>',
      ]
  }
}

function fieldXml(field: RequiredField): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<CustomField xmlns="${NS}">`,
    `    <fullName>${field.name}</fullName>`,
    `    <label>${esc(field.label)}</label>`,
    `    <description>${esc(field.description)}</description>`,
    ...shapeXml(field.shape).map((l) => `    ${l}`),
    '</CustomField>',
    '',
  ].join('\n')
}

const OBJECT_XML = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  `<CustomObject xmlns="${NS}">`,
  '    <label>Footfall Visit</label>',
  '    <pluralLabel>Footfall Visits</pluralLabel>',
  '    <description>One in-store visit of a customer, written by Footfall.</description>',
  '    <nameField><label>Visit Number</label><type>AutoNumber</type><displayFormat>FV-{0000000}</displayFormat></nameField>',
  '    <deploymentStatus>Deployed</deploymentStatus>',
  '    <sharingModel>ReadWrite</sharingModel>',
  '</CustomObject>',
  '',
].join('\n')

function permissionSetXml(): string {
  const fields = [
    ...ACCOUNT_FIELDS.map((f) => `Account.${f.name}`),
    ...VISIT_FIELDS.map((f) => `${VISIT_OBJECT}.${f.name}`),
  ]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<PermissionSet xmlns="${NS}">`,
    '    <label>Footfall Integration</label>',
    '    <description>What the Footfall integration user reads and writes.</description>',
    ...fields.map(
      (f) =>
        `    <fieldPermissions><field>${f}</field><readable>true</readable><editable>true</editable></fieldPermissions>`,
    ),
    `    <objectPermissions><object>${VISIT_OBJECT}</object><allowCreate>true</allowCreate><allowRead>true</allowRead><allowEdit>true</allowEdit><allowDelete>true</allowDelete><viewAllRecords>false</viewAllRecords><modifyAllRecords>false</modifyAllRecords></objectPermissions>`,
    '    <objectPermissions><object>Account</object><allowCreate>false</allowCreate><allowRead>true</allowRead><allowEdit>true</allowEdit><allowDelete>false</allowDelete><viewAllRecords>false</viewAllRecords><modifyAllRecords>false</modifyAllRecords></objectPermissions>',
    '</PermissionSet>',
    '',
  ].join('\n')
}

/** Every file of the package, path → content. */
export function setupMetadataFiles(apiVersion: string): Map<string, string> {
  const files = new Map<string, string>()
  files.set(
    'sfdx-project.json',
    `${JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }], sourceApiVersion: apiVersion }, null, 2)}\n`,
  )
  for (const f of ACCOUNT_FIELDS)
    files.set(`${ROOT}/objects/Account/fields/${f.name}.field-meta.xml`, fieldXml(f))
  files.set(`${ROOT}/objects/${VISIT_OBJECT}/${VISIT_OBJECT}.object-meta.xml`, OBJECT_XML)
  for (const f of VISIT_FIELDS)
    files.set(`${ROOT}/objects/${VISIT_OBJECT}/fields/${f.name}.field-meta.xml`, fieldXml(f))
  files.set(
    `${ROOT}/permissionsets/Footfall_Integration.permissionset-meta.xml`,
    permissionSetXml(),
  )
  return files
}
