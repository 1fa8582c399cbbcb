// Boots a worker thread from TypeScript source: Node 20 cannot strip types, and a loader
// registered in the main thread does not reach worker threads, so each thread registers tsx.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entry)
