import { stringify } from 'csv-stringify/sync'
import { formatDateTime } from './dml'
import { ApiError, NOT_FOUND_RESOURCE } from './errors'
import { asObject, json, noContent, parseJsonBody } from './http'
import type { Reply } from './http'
import { makeId } from './ids'
import type { OrgSchema } from './schema'
import { compileQuery, runQuery } from './soql'
import type { CompiledQuery } from './soql'
import type { Store } from './store'

type State = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed'

interface QueryJobInfo {
  id: string
  operation: 'query' | 'queryAll'
  object: string
  createdById: string
  createdDate: string
  systemModstamp: string
  state: State
  concurrencyMode: 'Parallel'
  contentType: 'CSV'
  apiVersion: number
  jobType: 'V2Query'
  lineEnding: 'LF'
  columnDelimiter: 'COMMA'
  numberRecordsProcessed: number
  retries: number
  totalProcessingTime: number
}

interface QueryJob {
  info: QueryJobInfo
  query: CompiledQuery
  /** CSV rows without the header, fixed when the job completes (a snapshot, as Salesforce's). */
  rows: string[][] | null
  header: string[]
}

/** Rows per results page when the client gives no `maxRecords`. */
const DEFAULT_PAGE = 50_000

/**
 * Bulk API 2.0 query jobs (`jsforce bulk2.query`): create, poll, results as CSV pages linked by
 * the `Sforce-Locator` header. Jobs live in memory only.
 */
export class Bulk2Query {
  private readonly jobs = new Map<string, QueryJob>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly schema: OrgSchema,
    private readonly store: Store,
    private readonly processingDelayMs: number,
  ) {}

  async handle(
    method: string,
    parts: string[],
    query: URLSearchParams,
    body: () => Promise<Buffer>,
    version: string,
    userId: string,
  ): Promise<Reply> {
    if (parts.length === 0 && method === 'POST') {
      return this.create(asObject(parseJsonBody(await body()), 'QueryJobInfo'), version, userId)
    }
    const job = parts[0] ? this.jobs.get(parts[0]) : undefined
    if (!job) throw NOT_FOUND_RESOURCE()
    if (parts.length === 1 && method === 'GET') return json(200, job.info)
    if (parts.length === 1 && method === 'DELETE') {
      this.jobs.delete(job.info.id)
      return noContent()
    }
    if (parts.length === 1 && method === 'PATCH') {
      const patch = asObject(parseJsonBody(await body()), 'QueryJobInfo')
      if (patch.state !== 'Aborted' || job.info.state === 'JobComplete') {
        throw new ApiError(
          400,
          'INVALIDJOBSTATE',
          `Job in state ${job.info.state} cannot be aborted`,
        )
      }
      job.info.state = 'Aborted'
      return json(200, job.info)
    }
    if (parts.length === 2 && parts[1] === 'results' && method === 'GET') {
      return this.results(job, query)
    }
    throw NOT_FOUND_RESOURCE()
  }

  private create(body: Record<string, unknown>, version: string, userId: string): Reply {
    const operation = body.operation === 'queryAll' ? 'queryAll' : 'query'
    if (body.operation !== 'query' && body.operation !== 'queryAll') {
      throw new ApiError(
        400,
        'INVALIDJOB',
        `InvalidJob : Invalid operation: ${String(body.operation)}`,
      )
    }
    if (typeof body.query !== 'string') {
      throw new ApiError(400, 'INVALIDJOB', 'InvalidJob : A query is required')
    }
    const compiled = compileQuery(body.query, this.schema)
    if (compiled.count) {
      throw new ApiError(
        400,
        'INVALIDJOB',
        'InvalidJob : COUNT() is not supported in a Bulk API query',
      )
    }
    const id = makeId('750', this.store.next('id:750'))
    const now = formatDateTime(new Date())
    const info: QueryJobInfo = {
      id,
      operation,
      object: compiled.object.name,
      createdById: userId,
      createdDate: now,
      systemModstamp: now,
      state: 'UploadComplete',
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(version),
      jobType: 'V2Query',
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
      numberRecordsProcessed: 0,
      retries: 0,
      totalProcessingTime: 0,
    }
    const job: QueryJob = {
      info,
      query: compiled,
      rows: null,
      header: compiled.select.map((p) => p.names.join('.')),
    }
    this.jobs.set(id, job)
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.run(job, version)
    }, this.processingDelayMs)
    this.timers.add(timer)
    return json(200, info)
  }

  private run(job: QueryJob, version: string): void {
    if (job.info.state !== 'UploadComplete') return
    const started = Date.now()
    const { records } = runQuery(job.query, this.store, version)
    const cell = (record: Record<string, unknown>, names: string[]): string => {
      let value: unknown = record
      for (const name of names) {
        value = value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : null
      }
      return value === null || value === undefined
        ? ''
        : typeof value === 'string'
          ? value
          : JSON.stringify(value)
    }
    job.rows = records.map((r) => job.query.select.map((p) => cell(r, p.names)))
    job.info.state = 'JobComplete'
    job.info.numberRecordsProcessed = job.rows.length
    job.info.totalProcessingTime = Date.now() - started
    job.info.systemModstamp = formatDateTime(new Date())
  }

  private results(job: QueryJob, query: URLSearchParams): Reply {
    if (job.info.state !== 'JobComplete' || !job.rows) {
      throw new ApiError(
        400,
        'INVALIDJOBSTATE',
        `Job ${job.info.id} is not complete: ${job.info.state}`,
      )
    }
    const start = Number(query.get('locator') ?? 0)
    const max = Number(query.get('maxRecords') ?? DEFAULT_PAGE)
    if (!Number.isInteger(start) || start < 0 || !Number.isInteger(max) || max < 1) {
      throw new ApiError(400, 'INVALIDLOCATOR', 'Invalid locator or maxRecords')
    }
    const page = job.rows.slice(start, start + max)
    const next = start + max < job.rows.length ? String(start + max) : 'null'
    return {
      status: 200,
      text: stringify([job.header, ...page], { quoted: true, record_delimiter: '\n' }),
      contentType: 'text/csv',
      // jsforce asks for pages until this header says `null`; without it, it would ask forever.
      headers: { 'sforce-locator': next, 'sforce-numberofrecords': String(page.length) },
    }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }
}
