import type { Connection } from 'jsforce'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applySetup, footfallOrgSchema } from '../../src/tools/sf-emulator'
import type { SfEmulator } from '../../src/tools/sf-emulator'
import { loggedIn, rejection, startOrg, statusCode } from './helpers'

let org: SfEmulator
let conn: Connection

// A real org may also have an external id that is not unique; upsert then meets several matches.
const schema = applySetup(footfallOrgSchema(), {
  fields: {
    Account: [
      { name: 'Legacy_Key__c', label: 'Legacy Key', type: 'string', length: 40, externalId: true },
    ],
  },
})

beforeAll(async () => {
  org = await startOrg({ schema })
  conn = await loggedIn(org)
})
afterAll(async () => {
  await org.close()
})

const accounts = (
  n: number,
  from = 0,
): { In_Store_Customer_Id__c: string; Name: string; Footfall_Visit_Count__c: number }[] =>
  Array.from({ length: n }, (_, i) => ({
    In_Store_Customer_Id__c: `U${from + i}`,
    Name: `Customer ${from + i}`,
    Footfall_Visit_Count__c: i,
  }))

/** How many API requests `run` made, read from the org's own counter. */
async function apiCallsDuring(run: () => Promise<unknown>): Promise<number> {
  const before = org.admin.apiUsage().used
  await run()
  return org.admin.apiUsage().used - before
}

describe('sObject Collections upsert through jsforce', () => {
  it('1 record in an array: one collections call, created then updated', async () => {
    let created: Awaited<ReturnType<typeof upsertOne>>[number] | undefined
    const upsertOne = () =>
      conn.sobject('Account').upsert([accounts(1)[0]!], 'In_Store_Customer_Id__c')
    expect(await apiCallsDuring(async () => ([created] = await upsertOne()))).toBe(1)
    expect(created).toMatchObject({ success: true, created: true, errors: [] })
    expect(created!.id).toMatch(/^001\w{15}$/)
    const [updated] = await conn
      .sobject('Account')
      .upsert(
        [{ In_Store_Customer_Id__c: 'u0', Footfall_Visit_Count__c: 42 }],
        'In_Store_Customer_Id__c',
      )
    expect(updated).toEqual({ id: created!.id, success: true, errors: [], created: false })
    const record = await conn.sobject('Account').retrieve(created!.id!)
    expect(record.Footfall_Visit_Count__c).toBe(42)
    expect(record.Name).toBe('Customer 0')
  })

  it('200 records: one call, results in input order', async () => {
    const input = accounts(200, 1000)
    let results: { id?: string | null; success: boolean; created?: boolean }[] = []
    const calls = await apiCallsDuring(async () => {
      results = await conn.sobject('Account').upsert(input, 'In_Store_Customer_Id__c')
    })
    expect(calls).toBe(1)
    expect(results).toHaveLength(200)
    expect(results.every((r) => r.success && r.created === true)).toBe(true)
    const found = await conn.sobject('Account').retrieve(
      results.map((r) => r.id!),
      { fields: ['In_Store_Customer_Id__c'] },
    )
    expect(found.map((r) => r?.In_Store_Customer_Id__c as string)).toEqual(
      input.map((a) => a.In_Store_Customer_Id__c),
    )
  })

  it('201 records: refused whole (EXCEEDED_ID_LIMIT); allowRecursive splits into 200 + 1', async () => {
    const input = accounts(201, 2000)
    const e = await rejection(conn.sobject('Account').upsert(input, 'In_Store_Customer_Id__c'))
    expect(e.errorCode).toBe('EXCEEDED_ID_LIMIT')
    expect(e.message).toBe(
      'record limit reached. cannot submit more than 200 records into this call',
    )
    expect(
      (await conn.query("SELECT COUNT() FROM Account WHERE In_Store_Customer_Id__c LIKE 'U2%'"))
        .totalSize,
    ).toBe(0)

    let results: { success: boolean }[] = []
    const calls = await apiCallsDuring(async () => {
      results = await conn
        .sobject('Account')
        .upsert(input, 'In_Store_Customer_Id__c', { allowRecursive: true })
    })
    expect(calls).toBe(2)
    expect(results).toHaveLength(201)
    expect(results.every((r) => r.success)).toBe(true)
  })

  it('allOrNone: one bad record rolls back the others', async () => {
    const input = [
      { In_Store_Customer_Id__c: 'R1', Name: 'Fine' },
      {
        In_Store_Customer_Id__c: 'R2',
        Name: 'Too long store',
        Footfall_Last_Store__c: 'x'.repeat(65),
      },
      { In_Store_Customer_Id__c: 'U0', Footfall_Visit_Count__c: 1 },
    ]
    const results = await conn
      .sobject('Account')
      .upsert(input, 'In_Store_Customer_Id__c', { allOrNone: true })
    expect(results[0]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message:
            'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    })
    expect(results[1]!.errors).toEqual([
      {
        statusCode: 'STRING_TOO_LONG',
        message: `Footfall Last Store: data value too large: ${'x'.repeat(65)} (max length=64)`,
        fields: ['Footfall_Last_Store__c'],
      },
    ])
    expect(results[2]).toMatchObject({
      success: false,
      errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK' }],
    })
    expect(
      (await conn.query("SELECT COUNT() FROM Account WHERE In_Store_Customer_Id__c = 'R1'"))
        .totalSize,
    ).toBe(0)
    const u0 = await conn.query<{ Footfall_Visit_Count__c: number }>(
      "SELECT Footfall_Visit_Count__c FROM Account WHERE In_Store_Customer_Id__c = 'U0'",
    )
    expect(u0.records[0]!.Footfall_Visit_Count__c).toBe(42)

    // Without allOrNone the good ones are saved and the bad one alone fails.
    const partial = await conn.sobject('Account').upsert(input, 'In_Store_Customer_Id__c')
    expect(partial.map((r) => r.success)).toEqual([true, false, true])
  })

  it('field rules: required, types, lengths, picklists, ids, duplicates', async () => {
    const results = await conn.sobject('Footfall_Visit__c').upsert(
      [
        { Visit_Key__c: 'K1', Status__c: 'teleported' },
        { Visit_Key__c: 'K2', Account__c: 'not-an-id' },
        { Visit_Key__c: 'K3', Time_In_Store_Minutes__c: 1234567.5 },
        { Visit_Key__c: 'K4', Account__r: { In_Store_Customer_Id__c: 'nobody' } },
        {
          Visit_Key__c: 'K5',
          Account__r: { In_Store_Customer_Id__c: 'U0' },
          Spend__c: 10.456,
          Entered_At__c: '2025-03-01T09:30:00+01:00',
        },
        { Visit_Key__c: 'K6', Store_Id__c: 'a' },
        { Visit_Key__c: 'k6', Store_Id__c: 'b' },
      ],
      'Visit_Key__c',
    )
    expect(results.map((r) => (r.success ? 'ok' : statusCode(r.errors[0])))).toEqual([
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      'MALFORMED_ID',
      'NUMBER_OUTSIDE_VALID_RANGE',
      'INVALID_FIELD',
      'ok',
      'DUPLICATE_VALUE',
      'DUPLICATE_VALUE',
    ])
    expect(results[3]!.errors[0]!.message).toBe(
      'Foreign key external ID: nobody not found for field In_Store_Customer_Id__c in entity Account',
    )
    const k5 = await conn.query<{
      Spend__c: number
      Entered_At__c: string
      Name: string
      Account__r: { In_Store_Customer_Id__c: string }
    }>(
      "SELECT Name, Spend__c, Entered_At__c, Account__r.In_Store_Customer_Id__c FROM Footfall_Visit__c WHERE Visit_Key__c = 'K5'",
    )
    expect(k5.records[0]).toMatchObject({
      Spend__c: 10.46,
      Entered_At__c: '2025-03-01T08:30:00.000+0000',
      Account__r: { In_Store_Customer_Id__c: 'U0' },
    })
    expect(k5.records[0]!.Name).toMatch(/^V-\d{6}$/)

    const missing = await conn
      .sobject('Account')
      .upsert([{ In_Store_Customer_Id__c: 'NEW1' }], 'In_Store_Customer_Id__c')
    expect(missing[0]!.errors).toEqual([
      {
        statusCode: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [Name]',
        fields: ['Name'],
      },
    ])

    const dup = await conn
      .sobject('Account')
      .create([{ Name: 'Dup', In_Store_Customer_Id__c: 'U0' }])
    expect(statusCode(dup[0]!.errors[0])).toBe('DUPLICATE_VALUE')
    expect(dup[0]!.errors[0]!.message).toMatch(
      /^duplicate value found: In_Store_Customer_Id__c duplicates value on record with id: 001\w{12}$/,
    )

    // A value of the wrong JSON type fails the whole request, as Salesforce's deserializer does.
    const e = await rejection(
      conn
        .sobject('Account')
        .upsert(
          [{ In_Store_Customer_Id__c: 'U0', Footfall_Visit_Count__c: 'many' }],
          'In_Store_Customer_Id__c',
        ),
    )
    expect(e.errorCode).toBe('JSON_PARSER_ERROR')
    const unknown = await rejection(
      conn
        .sobject('Account')
        .upsert([{ In_Store_Customer_Id__c: 'U0', Nope__c: 1 }], 'In_Store_Customer_Id__c'),
    )
    expect([unknown.errorCode, unknown.message]).toEqual([
      'INVALID_FIELD',
      "No such column 'Nope__c' on sobject of type Account",
    ])
  })
})

describe('single records through jsforce', () => {
  it('upsert by external id: 201 created, 200 updated, 300 multiple matches, 404 not an external id', async () => {
    const created = await conn
      .sobject('Account')
      .upsert(
        { In_Store_Customer_Id__c: 'S1', Name: 'Single', Legacy_Key__c: 'L' },
        'In_Store_Customer_Id__c',
      )
    expect(created).toMatchObject({ success: true, created: true, errors: [] })
    const updated = await conn
      .sobject('Account')
      .upsert(
        { In_Store_Customer_Id__c: 'S1', Footfall_Top_Brands__c: 'Acme;Globex' },
        'In_Store_Customer_Id__c',
      )
    expect(updated).toEqual({ id: created.id, success: true, errors: [], created: false })

    await conn
      .sobject('Account')
      .create({ Name: 'Other', In_Store_Customer_Id__c: 'S2', Legacy_Key__c: 'l' })
    const multiple = await rejection(
      conn.sobject('Account').upsert({ Legacy_Key__c: 'L', Name: 'x' }, 'Legacy_Key__c'),
    )
    expect(multiple.errorCode).toBe('MULTIPLE_CHOICES')
    expect(multiple.data).toHaveLength(2)
    expect((multiple.data as string[])[0]).toMatch(
      /^\/services\/data\/v62\.0\/sobjects\/Account\/001\w{15}$/,
    )

    const notExternal = await rejection(
      conn.sobject('Account').upsert({ Name: 'x', Phone: '1' }, 'Name'),
    )
    expect([notExternal.errorCode, notExternal.message]).toEqual([
      'NOT_FOUND',
      'Provided external ID field does not exist or is not accessible: Name',
    ])

    const bad = await rejection(
      conn
        .sobject('Account')
        .upsert(
          { In_Store_Customer_Id__c: 'S1', Footfall_Last_Store__c: 'y'.repeat(70) },
          'In_Store_Customer_Id__c',
        ),
    )
    expect(bad.errorCode).toBe('STRING_TOO_LONG')
  })

  it('create, retrieve, update, delete', async () => {
    const res = await conn.sobject('Account').create({ Name: 'Crud' })
    expect(res).toMatchObject({ success: true })
    const got = await conn.sobject('Account').retrieve(res.id!)
    expect(got).toMatchObject({
      Id: res.id,
      Name: 'Crud',
      In_Store_Customer_Id__c: null,
      attributes: { type: 'Account' },
    })
    expect(await conn.sobject('Account').update({ Id: res.id!, Name: 'Crud 2' })).toEqual({
      id: res.id,
      success: true,
      errors: [],
    })
    expect((await conn.sobject('Account').retrieve(res.id!)).Name).toBe('Crud 2')
    const clear = await rejection(conn.sobject('Account').update({ Id: res.id!, Name: null }))
    expect(clear.errorCode).toBe('REQUIRED_FIELD_MISSING')
    const readOnly = await rejection(
      conn.sobject('Account').create({ Name: 'x', CreatedDate: '2020-01-01T00:00:00Z' }),
    )
    expect(readOnly.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE')
    await conn.sobject('Account').destroy(res.id!)
    const gone = await rejection(conn.sobject('Account').retrieve(res.id!))
    expect(gone.errorCode).toBe('NOT_FOUND')
    const two = await conn.sobject('Account').create([{ Name: 'Del 1' }, { Name: 'Del 2' }])
    const deleted = await conn
      .sobject('Account')
      .destroy([two[0]!.id!, 'not-an-id', res.id!, two[1]!.id!])
    expect(deleted.map((r) => (r.success ? 'ok' : statusCode(r.errors[0])))).toEqual([
      'ok',
      'MALFORMED_ID',
      'ENTITY_IS_DELETED',
      'ok',
    ])
    const badId = await rejection(conn.sobject('Account').update({ Id: '001abc', Name: 'x' }))
    expect(badId.errorCode).toBe('NOT_FOUND')
  })

  it('describe reports the schema', async () => {
    const d = await conn.describe('Account')
    const key = d.fields.find((f) => f.name === 'In_Store_Customer_Id__c')!
    expect(key).toMatchObject({
      type: 'string',
      length: 80,
      externalId: true,
      unique: true,
      nillable: true,
      createable: true,
      updateable: true,
    })
    expect(d.fields.find((f) => f.name === 'Name')).toMatchObject({ nillable: false, length: 255 })
    expect(d.fields.find((f) => f.name === 'Footfall_Total_Spend__c')).toMatchObject({
      type: 'currency',
      precision: 16,
      scale: 2,
    })
    expect(d.keyPrefix).toBe('001')
    const visit = await conn.describe('Footfall_Visit__c')
    expect(visit.fields.find((f) => f.name === 'Account__c')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Account__r',
    })
    expect(
      visit.fields
        .find((f) => f.name === 'Status__c')!
        .picklistValues!.map((p: { value: string }) => p.value),
    ).toEqual(['open', 'closed', 'incomplete', 'abandoned'])
    const global = await conn.describeGlobal()
    expect(global.sobjects.map((s) => s.name).sort()).toEqual(['Account', 'Footfall_Visit__c'])
  })
})
