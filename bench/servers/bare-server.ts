import { createServer } from 'node:http'

// Baseline (a): parses the body and answers 202 without storing. The ceiling for any listener
// that has to at least read and parse every event.
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'))
      res.writeHead(202, { 'content-type': 'application/json' })
      res.end('{"status":"accepted"}')
    } catch {
      res.writeHead(400)
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
process.on('SIGTERM', () => server.close(() => process.exit(0)))
