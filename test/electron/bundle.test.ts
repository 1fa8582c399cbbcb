import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { PROCESSING_DEFAULTS } from '../../src/main/core/processing/config'
import { CLAIM_CELLS } from '../../src/main/core/processing/rebuild-ahead-protocol'
import { closeWritable, openWritable } from '../../src/main/core/store/database'
import { tempDir } from '../helpers/temp-dir'

// The Electron build (no Electron binary can run here): it compiles, and the core's worker
// threads, which the main process loads from beside its own bundle, start under plain Node.

const ROOT = join(import.meta.dirname, '../..')
const OUT = join(ROOT, 'out/main')

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  )
}, 120_000)

function startWorker(file: string, workerData: object): Promise<string[]> {
  const worker = new Worker(pathToFileURL(join(OUT, file)), { workerData })
  const seen: string[] = []
  return new Promise((resolve, reject) => {
    worker.on('error', reject)
    worker.on('message', (m: { type: string }) => {
      seen.push(m.type)
      if (m.type === 'ready') worker.postMessage({ type: 'close' })
      if (m.type === 'closed') void worker.terminate().then(() => resolve(seen))
    })
  })
}

describe('the Electron bundle', () => {
  it('has the main, preload and renderer entries, and the workers beside main', () => {
    for (const f of [
      'main/index.js',
      'main/commit-worker.js',
      'main/processing-worker.js',
      'main/rebuild-ahead-worker.js',
      'preload/index.cjs',
      'renderer/index.html',
    ]) {
      expect(existsSync(join(ROOT, 'out', f)), f).toBe(true)
    }
    // The thread handles look for a worker beside the module that asks (workerEntry with its
    // import.meta.url): that module must be index.js itself, not a chunk in another folder.
    const main = readFileSync(join(OUT, 'index.js'), 'utf8')
    expect(main).toContain('workerEntry(import.meta.url, "commit-worker")')
    expect(main).toContain('workerEntry(import.meta.url, "processing-worker")')
    // The processing thread starts a rebuild's second thread the same way.
    expect(readFileSync(join(OUT, 'processing-worker.js'), 'utf8')).toContain(
      'workerEntry(import.meta.url, "rebuild-ahead-worker")',
    )
  })

  it("gives the window the app's icon, resolved from beside the bundle to resources/", () => {
    const main = readFileSync(join(OUT, 'index.js'), 'utf8')
    const path = /join\$?\d*\(import\.meta\.dirname, "([^"]*icon\.png)"\)/.exec(main)?.[1]
    expect(path).toBeDefined()
    const icon = readFileSync(join(OUT, path!))
    // A PNG: the signature, then the IHDR chunk with a square size.
    expect(icon.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))
    expect(icon.readUInt32BE(16)).toBe(icon.readUInt32BE(20))
    expect(main).toMatch(/\bicon: \w+/)
  })

  it.each([
    [
      'commit-worker.js',
      (dir: string) => ({ dataDir: dir, busyTimeoutMs: 100, checkpointEveryMs: 1000 }),
    ],
    ['processing-worker.js', (dir: string) => ({ dataDir: dir, options: {} })],
  ])('%s opens its connection and closes on request', async (file, data) => {
    const dir = tempDir()
    try {
      expect(await startWorker(file, data(dir.path))).toEqual(['ready', 'closed'])
    } finally {
      dir.cleanup()
    }
  })

  it('rebuild-ahead-worker.js opens its read-only connection and says so', async () => {
    const dir = tempDir()
    closeWritable(openWritable(dir.path))
    const { port1, port2 } = new MessageChannel()
    const shared = new SharedArrayBuffer(4 * (1 + CLAIM_CELLS))
    const worker = new Worker(pathToFileURL(join(OUT, 'rebuild-ahead-worker.js')), {
      workerData: { dataDir: dir.path, config: PROCESSING_DEFAULTS, shared, port: port2 },
      transferList: [port2],
    })
    try {
      const first = await new Promise((resolve, reject) => {
        worker.once('error', reject)
        port1.once('message', resolve)
      })
      expect(first).toEqual({ kind: 'ready' })
      // It counts each reply in the shared buffer, which the batch sleeps on (just after posting).
      await vi.waitFor(() => expect(Atomics.load(new Int32Array(shared), 0)).toBe(1))
    } finally {
      port1.close()
      await worker.terminate()
      dir.cleanup()
    }
  })
})
