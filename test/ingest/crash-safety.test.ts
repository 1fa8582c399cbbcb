import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { databasePath } from '../../src/main/core/store/database'
import { TEST_TOKEN } from '../helpers/core'
import { freshEvent } from '../helpers/samples'
import { spawnServe } from '../helpers/serve-process'
import { tempDir } from '../helpers/temp-dir'

// A 2xx is a promise that the event survives a crash. A child process serves; clients send over
// many connections; the child is killed with SIGKILL mid-stream; after a restart every id that
// was answered 2xx is in the store, once.

const dir = tempDir()
afterAll(() => dir.cleanup())

describe('crash safety', () => {
  it('keeps every acknowledged event across SIGKILL, none twice', async () => {
    const serve = await spawnServe(['--data-dir', dir.path, '--ingest-token', TEST_TOKEN])
    const acknowledged: string[] = []
    const sent: string[] = []
    let killed = false
    const CONNECTIONS = 32

    const worker = async (): Promise<void> => {
      while (!killed) {
        const event = freshEvent()
        sent.push(event.id as string)
        try {
          const res = await fetch(`${serve.ingestUrl}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify(event),
          })
          if (res.status >= 200 && res.status < 300) acknowledged.push(event.id as string)
          await res.arrayBuffer()
        } catch {
          // The connection died with the server: not acknowledged, the sender would retry.
        }
      }
    }
    const workers = Array.from({ length: CONNECTIONS }, worker)
    while (acknowledged.length < 3000) await new Promise((r) => setTimeout(r, 20))
    serve.child.kill('SIGKILL')
    const { signal } = await serve.exited
    killed = true
    await Promise.all(workers)
    expect(signal).toBe('SIGKILL')
    // Requests were still in flight when the process died.
    expect(sent.length).toBeGreaterThan(acknowledged.length)

    const restarted = await spawnServe(['--data-dir', dir.path, '--ingest-token', TEST_TOKEN])
    const db = new Database(databasePath(dir.path), { readonly: true })
    const stored = new Set(
      (db.prepare('SELECT id FROM events').all() as { id: string }[]).map((r) => r.id),
    )
    const perId = db.prepare('SELECT count(*) AS n FROM events GROUP BY id HAVING n > 1').all()
    db.close()
    restarted.child.kill('SIGTERM')
    expect((await restarted.exited).code).toBe(0)

    const lost = acknowledged.filter((id) => !stored.has(id))
    expect(lost).toEqual([])
    expect(perId).toEqual([])
    // Nothing appears that was never sent.
    const sentSet = new Set(sent)
    expect([...stored].every((id) => sentSet.has(id))).toBe(true)
  }, 60_000)
})
