import { describe, expect, it } from 'vitest'
import {
  accountFields,
  fitItems,
  fitList,
  salesforceVisitKey,
  visitFields,
} from '../../src/main/core/sync/field-mapping'

const entered = Date.parse('2026-11-21T14:03:11.250Z')
const exited = Date.parse('2026-11-21T14:24:30.000Z')

describe('field mapping (SALESFORCE.md)', () => {
  it('maps the sample visit and its rollup', () => {
    const visit = {
      visit_key: 'C-100234:6f1c2a9e-2d7b-4c55-9a0e-7c1f3b8d4e01',
      customer_id: 'C-100234',
      store_id: 'S-017',
      status: 'closed' as const,
      entered_ms: entered,
      exited_ms: exited,
      tis_ms: 1_278_750,
      spend_cents: 16_599,
      brands: 'Northpeak;Woolworks',
      items_json: '[]',
    }
    expect(visitFields(visit, '001000000000001AAA')).toEqual({
      Visit_Key__c: 'C-100234:6f1c2a9e-2d7b-4c55-9a0e-7c1f3b8d4e01',
      Account__c: '001000000000001AAA',
      Store_Id__c: 'S-017',
      Entered_At__c: '2026-11-21T14:03:11.250Z',
      Exited_At__c: '2026-11-21T14:24:30.000Z',
      Time_In_Store_Minutes__c: 21.31,
      Spend__c: 165.99,
      Brands__c: 'Northpeak;Woolworks',
      Items__c: '[]',
      Status__c: 'closed',
    })
    const rollup = {
      customer_id: 'C-100234',
      visit_count: 1,
      visits_30d: 1,
      first_visit_ms: entered,
      last_visit_ms: entered,
      last_store_id: null,
      avg_tis_minutes: 21.31,
      total_spend_cents: 16_599,
      purchase_visits: 1,
      top_brands: 'Northpeak;Woolworks',
    }
    expect(accountFields(rollup, exited)).toEqual({
      Footfall_Visit_Count__c: 1,
      Footfall_Visits_30d__c: 1,
      Footfall_First_Visit__c: '2026-11-21T14:03:11.250Z',
      Footfall_Last_Visit__c: '2026-11-21T14:03:11.250Z',
      Footfall_Last_Store__c: 'unknown',
      Footfall_Avg_TIS_Minutes__c: 21.31,
      Footfall_Total_Spend__c: 165.99,
      Footfall_Purchase_Visits__c: 1,
      Footfall_Top_Brands__c: 'Northpeak;Woolworks',
      Footfall_Synced_At__c: '2026-11-21T14:24:30.000Z',
    })
  })

  it('cuts brand lists at whole brands to fit Text(255)', () => {
    const brands = Array.from({ length: 5 }, (_, i) => `${i}${'b'.repeat(79)}`).join(';')
    const fitted = fitList(brands)
    expect(fitted.length).toBeLessThanOrEqual(255)
    expect(fitted.split(';')).toHaveLength(3)
    expect(brands.startsWith(fitted)).toBe(true)
  })

  it('keeps visit keys within Text(80), stable and distinct', () => {
    const short = 'C-1:e-1'
    expect(salesforceVisitKey(short)).toBe(short)
    const long = `C-1:${'x'.repeat(100)}`
    const other = `C-1:${'x'.repeat(99)}y`
    expect(salesforceVisitKey(long)).toHaveLength(44)
    expect(salesforceVisitKey(long)).toBe(salesforceVisitKey(long))
    expect(salesforceVisitKey(long)).not.toBe(salesforceVisitKey(other))
  })

  it('drops whole item lines past the Long Text limit and says how many', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({
      product_id: `P-${i}`,
      pad: 'x'.repeat(50),
    }))
    const text = fitItems(JSON.stringify(items), 2000)
    expect(text.length).toBeLessThanOrEqual(2000)
    const parsed = JSON.parse(text) as { truncated?: number }[]
    expect(parsed.at(-1)?.truncated).toBe(100 - (parsed.length - 1))
  })
})
