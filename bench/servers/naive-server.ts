import { createServer } from 'node:http'
import { classifyBody } from '../../src/main/core/ingest/classify-body'
import { closeWritable, openWritable } from '../../src/main/core/store/database'
import { EventStore } from '../../src/main/core/store/event-store'

// Baseline (c): the naive listener. The same validation, schema and durability as Footfall
// (WAL, synchronous=FULL), but each request is committed on its own, in the request handler,
// before it is answered: one transaction and one fsync per event, on the event loop.
const dataDir = process.argv[2]
if (!dataDir) throw new Error('usage: naive-server.ts DATA_DIR')
const db = openWritable(dataDir)
const store = new EventStore(db)

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const op = classifyBody(Buffer.concat(chunks), req.headers['content-type'] ?? null, Date.now())
    try {
      const [outcome] = store.commit([op])
      res.writeHead(outcome === 'duplicate' ? 200 : outcome === 'quarantined' ? 202 : 201, {
        'content-type': 'application/json',
      })
      res.end(JSON.stringify({ status: outcome }))
    } catch {
      res.writeHead(500)
      res.end()
    }
  })
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address && typeof address === 'object') {
    process.stdout.write(`footfall ready: ingest http://127.0.0.1:${address.port}/events\n`)
  }
})
process.on('SIGTERM', () =>
  server.close(() => {
    closeWritable(db)
    process.exit(0)
  }),
)
