import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'

const BIN = join(import.meta.dirname, '../../bin/footfall.js')

export interface ServeProcess {
  child: ChildProcess
  ingestUrl: string
  stderr: () => string
  /** Resolves with the exit code (or signal) when the child ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs the real `footfall` command in a child process. */
export function runFootfall(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Starts `footfall serve` and waits for its ready line. */
export function spawnServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = runFootfall(['serve', '--ingest-port', '0', ...args], env)
  let out = ''
  let err = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve not ready in 20 s: ${err}`)), 20_000)
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /footfall ready: ingest (http:\/\/\S+)\/events/.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve({ child, ingestUrl: m[1], stderr: () => err, exited })
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code}) before ready: ${err}`))
    })
  })
}

/** Runs a `footfall` command to completion. */
export function runFootfallToEnd(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runFootfall(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}
