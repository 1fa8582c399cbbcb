import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..')

export interface BenchServer {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts a server in its own process (so the load generator never shares its event loop). */
export function startServer(script: string, args: string[]): Promise<BenchServer> {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${err}`)))
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /ready: ingest (http:\/\/\S+?)\/events/.exec(out)
      if (m?.[1]) {
        resolve({
          url: m[1],
          child,
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit')
              child.once('exit', () => done())
              child.kill('SIGTERM')
            }),
        })
      }
    })
  })
}
