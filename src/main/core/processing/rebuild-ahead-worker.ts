import { workerData } from 'node:worker_threads'
import { openReadonly } from '../store/database'
import { computeCustomers } from './compute-customer'
import { CustomerReader } from './customer-reader'
import { CLAIM, claimCell, claimValue } from './rebuild-ahead-protocol'
import type { AheadReply, AheadRequest, AheadWorkerData } from './rebuild-ahead-protocol'

/**
 * The rebuild's second thread (rebuild-ahead.ts): reads customers' events on its own read-only
 * connection and applies the rules to them, while the processing thread writes.
 */
const { dataDir, config, shared, port } = workerData as AheadWorkerData
const cells = new Int32Array(shared)

function send(reply: AheadReply): void {
  port.postMessage(reply)
  Atomics.add(cells, 0, 1)
  Atomics.notify(cells, 0)
}

const db = openReadonly(dataDir)
const reader = new CustomerReader(db)
const copiedThrough = db.prepare('SELECT indexed_seq FROM processing_state WHERE id = 1')

// One snapshot per request.
const compute = db.transaction(({ id, key, customers }: AheadRequest): AheadReply => {
  const copied = (copiedThrough.get() as { indexed_seq: number }).indexed_seq
  if (copied < key.target) return { kind: 'not-ready', id }
  return { kind: 'computed', id, customers: computeCustomers(reader, customers, key, config) }
})

port.on('message', (request: AheadRequest) => {
  const pending = claimValue(request.id, CLAIM.pending)
  const claimed = claimValue(request.id, CLAIM.thread)
  // The batch took it back (or it is from before a reset): skip it.
  if (Atomics.compareExchange(cells, claimCell(request.id), pending, claimed) !== pending) return
  let reply: AheadReply
  try {
    reply = compute(request)
  } catch (error) {
    reply = { kind: 'error', id: request.id, message: String(error) }
  }
  send(reply)
})
send({ kind: 'ready' })
