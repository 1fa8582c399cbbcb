import { createHash } from 'node:crypto'
import { Dml } from './dml'
import type { OrgSchema } from './schema'
import type { Store } from './store'

export interface SeedOptions {
  /** In-store customer ids (the simulator's, for the demo). */
  customerIds: string[]
  /** Share of the ids (0..1) left without an Account, to show unmatched customers. */
  unmatchedShare: number
}

export interface SeedResult {
  created: number
  alreadyPresent: number
  /** The ids deliberately left without an Account. */
  unmatched: string[]
}

const FIRST = [
  'Ada',
  'Bruno',
  'Chiara',
  'Dev',
  'Elif',
  'Farid',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Lena',
]
const LAST = [
  'Okafor',
  'Lindqvist',
  'Moreau',
  'Tanaka',
  'Silva',
  'Novak',
  'Haddad',
  'Kowalski',
  'Berg',
  'Romano',
]

/** A stable number in [0, 1) per id, so the same ids are unmatched on every run. */
function unit(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32
}

/** Creates an Account per customer id, except a stable share left unmatched. */
export function seedAccounts(schema: OrgSchema, store: Store, options: SeedOptions): SeedResult {
  if (!(options.unmatchedShare >= 0 && options.unmatchedShare <= 1)) {
    throw new Error('unmatchedShare must be between 0 and 1')
  }
  const account = schema.objects.get('Account')
  const key = account?.fields.get('In_Store_Customer_Id__c')
  if (!account || !key) throw new Error('the schema has no Account.In_Store_Customer_Id__c')
  const dml = new Dml(schema, store, { rules: () => [], lockFails: () => false })
  const result: SeedResult = { created: 0, alreadyPresent: 0, unmatched: [] }
  const tx = store.begin()
  for (const id of new Set(options.customerIds)) {
    if (unit(id) < options.unmatchedShare) {
      result.unmatched.push(id)
      continue
    }
    if (store.findBy(account, key, id).length > 0) {
      result.alreadyPresent += 1
      continue
    }
    const h = createHash('sha256').update(`name:${id}`).digest()
    const name = `${FIRST[h[0]! % FIRST.length]} ${LAST[h[1]! % LAST.length]}`
    const outcome = dml.create(tx, account, { Name: name, In_Store_Customer_Id__c: id }, 'json')
    if (!outcome.ok) {
      tx.rollback()
      throw new Error(`could not seed ${id}: ${outcome.errors.map((e) => e.message).join('; ')}`)
    }
    result.created += 1
  }
  tx.commit()
  return result
}
