import Database from 'better-sqlite3'
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { databasePath } from '../../src/main/core/store/database'
import { readStoreStats } from '../../src/main/core/store/event-store'
import { postEvent, startTestCore } from '../helpers/core'
import type { TestCore } from '../helpers/core'
import { freshEvent } from '../helpers/samples'
import { tempDir } from '../helpers/temp-dir'

// A store that cannot write answers 500 and keeps nothing; once it can write again, the sender's
// retries are stored once. Real faults only: another process holding SQLite's write lock, and a
// real full filesystem.

let core: TestCore | null = null
afterEach(async () => {
  await core?.dispose()
  core = null
})

const storedIds = (c: TestCore) =>
  (c.db.prepare('SELECT id FROM events').all() as { id: string }[]).map((r) => r.id)

describe('a store that cannot write', () => {
  it('answers 500 while another writer holds the database, then stores the retries once', async () => {
    core = await startTestCore()
    const blocker = new Database(databasePath(core.dataDir))
    blocker.exec('BEGIN IMMEDIATE') // takes the write lock, as a second writer would
    const events = [freshEvent(), freshEvent('02-shopping.json')]
    const blocked = await Promise.all(events.map((e) => postEvent(core!.eventsUrl, e)))
    expect(blocked.map((a) => a.status)).toEqual([500, 500])
    expect(blocked[0]?.body.error).toBe('not_stored')
    blocker.exec('ROLLBACK')
    blocker.close()
    expect(storedIds(core)).toEqual([])

    const retried = await Promise.all(events.map((e) => postEvent(core!.eventsUrl, e)))
    // 201, not 200: the failed attempt left nothing behind that could make a duplicate.
    expect(retried.map((a) => a.status)).toEqual([201, 201])
    expect(readStoreStats(core.db)).toMatchObject({ events: 2, duplicates: 0 })
  })

  const mountPoint = tempDir('footfall-full-')
  let canMount = false
  try {
    mkdirSync(mountPoint.path, { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint.path], {
      stdio: 'ignore',
    })
    canMount = true
  } catch {
    console.warn(
      'SKIPPED disk-full test: cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)',
    )
  }

  it.skipIf(!canMount)('answers 500 on a full disk, then stores the retries once', async () => {
    try {
      core = await startTestCore({ dataDir: join(mountPoint.path, 'store'), processIntervalMs: 0 })
      // An emptied WAL: a commit must now grow the file, which a full disk refuses. (A WAL
      // already grown by earlier commits is reused in place, and would take them.)
      core.db.pragma('wal_checkpoint(TRUNCATE)')
      const filler = join(mountPoint.path, 'filler')
      // Fill the filesystem to the last byte.
      try {
        writeFileSync(filler, Buffer.alloc(3 * 1024 * 1024))
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC')
      }
      const events = Array.from({ length: 3 }, () =>
        freshEvent('01-entered.json', { note: 'x'.repeat(128 * 1024) }),
      )
      const full = await Promise.all(events.map((e) => postEvent(core!.eventsUrl, e)))
      expect(full.map((a) => a.status)).toEqual([500, 500, 500])
      expect(storedIds(core)).toEqual([])

      rmSync(filler)
      const retried = await Promise.all(events.map((e) => postEvent(core!.eventsUrl, e)))
      expect(retried.map((a) => a.status)).toEqual([201, 201, 201])
      expect(storedIds(core).sort()).toEqual(events.map((e) => e.id as string).sort())
      expect(readStoreStats(core.db).duplicates).toBe(0)
      await core.dispose()
      core = null
    } finally {
      execFileSync('umount', ['-l', mountPoint.path])
      mountPoint.cleanup()
    }
  })
})
