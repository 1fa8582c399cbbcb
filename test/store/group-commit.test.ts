import { describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { CommitThread } from '../../src/main/core/store/commit-thread'
import type { CommitWorkerData } from '../../src/main/core/store/commit-thread'
import { GroupCommitter } from '../../src/main/core/store/group-commit'
import { tempDir } from '../helpers/temp-dir'
import { postEvent, startTestCore } from '../helpers/core'
import { freshEvent, received } from '../helpers/samples'

const later = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A commit thread on its own store, with no processing thread beside it. */
const commitThread = (dataDir: string, extra: Partial<CommitWorkerData> = {}): CommitThread =>
  new CommitThread({
    dataDir,
    busyTimeoutMs: 1000,
    checkpointEveryMs: 0,
    maxBatch: 1000,
    turns: null,
    ...extra,
  })

describe('GroupCommitter', () => {
  it('groups what arrives while a commit is in flight into the next commit, in order', async () => {
    const commits: number[][] = []
    const committer = new GroupCommitter<number, string>(async (ops) => {
      commits.push(ops)
      await later(20) // the fsync
      return ops.map((n) => `ok ${n}`)
    })
    const first = committer.submit(0)
    await later(5) // the first commit is now in flight
    const rest = [1, 2, 3, 4].map((n) => committer.submit(n))
    expect(await Promise.all([first, ...rest])).toEqual(['ok 0', 'ok 1', 'ok 2', 'ok 3', 'ok 4'])
    expect(commits).toEqual([[0], [1, 2, 3, 4]])
  })

  it('fails every operation of a failed batch, and only those', async () => {
    let calls = 0
    const committer = new GroupCommitter<number, number>((ops) => {
      calls += 1
      if (calls === 1) throw new Error('disk full')
      return ops
    })
    const failed = [committer.submit(1), committer.submit(2)]
    await expect(failed[0]).rejects.toThrow('disk full')
    await expect(failed[1]).rejects.toThrow('disk full')
    expect(await committer.submit(3)).toBe(3)
  })

  it('with more batches allowed in flight, hands each turn over at once, in order', async () => {
    const commits: number[][] = []
    const committer = new GroupCommitter<number, number>(
      async (ops) => {
        commits.push(ops)
        await later(20)
        return ops
      },
      1000,
      Infinity,
    )
    const first = committer.submit(0)
    await later(5) // the first hand-over is in flight; the next does not wait for it
    const rest = [1, 2].map((n) => committer.submit(n))
    await later(5)
    expect(commits).toEqual([[0], [1, 2]])
    expect(await Promise.all([first, ...rest])).toEqual([0, 1, 2])
    await committer.idle()
  })

  it('caps a batch at maxBatch', async () => {
    const sizes: number[] = []
    const committer = new GroupCommitter<number, number>((ops) => {
      sizes.push(ops.length)
      return ops
    }, 3)
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => committer.submit(n)))
    expect(sizes).toEqual([3, 3, 1])
  })

  it('lets concurrent requests share commits in the real listener', async () => {
    const core = await startTestCore()
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => postEvent(core.eventsUrl, freshEvent())),
      )
      expect(answers.every((a) => a.status === 201)).toBe(true)
      expect(core.committer.operations).toBe(200)
      // The transactions, counted where they happen. How many share one depends on how the
      // requests trickle in against the disk's speed; fewer than one each, always.
      expect(core.writer.transactions).toBeGreaterThan(0)
      expect(core.writer.transactions).toBeLessThan(200)
    } finally {
      await core.dispose()
    }
  })

  it('the commit thread puts hand-overs that queued while it was busy into one transaction', async () => {
    const dir = tempDir()
    const writer = commitThread(dir.path)
    try {
      await writer.open()
      // 50 hand-overs of one event each, posted in one go: at most the first goes alone.
      const receipts = await Promise.all(
        Array.from({ length: 50 }, () => writer.commit([received(freshEvent())])),
      )
      expect(receipts.flat().map((r) => r.outcome)).toEqual(Array(50).fill('stored'))
      expect(writer.transactions).toBeLessThanOrEqual(3)
    } finally {
      await writer.close()
      dir.cleanup()
    }
  })

  it('the commit thread settles ids itself when too many wait for processing', async () => {
    const dir = tempDir()
    const writer = commitThread(dir.path, { maxUnsettledIds: 5 })
    const op = () => received(freshEvent())
    try {
      await writer.open()
      for (let i = 0; i < 4; i += 1) await writer.commit([op(), op(), op()])
    } finally {
      await writer.close()
    }
    const db = new Database(join(dir.path, 'footfall.db'), { readonly: true })
    try {
      // No processing ran: the thread settled what was past its ceiling of 5, after a go.
      const settled = db.prepare('SELECT settled_seq FROM event_id_index').pluck().get() as number
      expect(settled).toBeGreaterThanOrEqual(12 - 5 - 3)
      expect(db.prepare('SELECT count(*) FROM event_ids').pluck().get()).toBe(settled)
    } finally {
      db.close()
      dir.cleanup()
    }
  })

  it('the commit thread keeps the WAL from growing without end under steady commits', async () => {
    const dir = tempDir()
    const writer = commitThread(dir.path)
    const op = () => received(freshEvent())
    const wal = join(dir.path, 'footfall.db-wal')
    let largest = 0
    try {
      await writer.open()
      // 600 commits of 10 events, one after another: about 2,400 WAL frames (10 MB) if the WAL
      // never started over.
      for (let i = 0; i < 600; i += 1) {
        await writer.commit(Array.from({ length: 10 }, op))
        largest = Math.max(largest, statSync(wal).size)
      }
    } finally {
      await writer.close()
      dir.cleanup()
    }
    expect(largest).toBeLessThan(3 * 1024 * 1024)
  })
})
