import { describe, expect, it } from 'vitest'
import { inQueries, soqlString } from '../../src/main/core/sync/soql'

describe('SOQL for bulk matching', () => {
  it('escapes quotes and backslashes', () => {
    expect(soqlString("O'Brien\\x")).toBe("'O\\'Brien\\\\x'")
  })

  it('covers every value exactly once within the encoded length limit', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `C-${String(i).padStart(6, '0')}`)
    const prefix = 'SELECT Id, In_Store_Customer_Id__c FROM Account WHERE In_Store_Customer_Id__c'
    const queries = inQueries(prefix, ids)
    expect(queries.length).toBeGreaterThan(1)
    expect(queries.length).toBeLessThan(20)
    for (const q of queries) expect(encodeURIComponent(q).length).toBeLessThanOrEqual(12_000)
    const seen = queries.flatMap((q) => [...q.matchAll(/'([^']+)'/g)].map((m) => m[1]))
    expect(seen).toEqual(ids)
  })

  it('gives nothing for nothing', () => {
    expect(inQueries('SELECT Id FROM Account WHERE Name', [])).toEqual([])
  })
})
