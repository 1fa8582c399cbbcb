import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import { Dml, formatDateTime } from './dml'
import type { DmlHooks, SaveOutcome } from './dml'
import { ApiError, NOT_FOUND_RESOURCE } from './errors'
import type { RecordError } from './errors'
import { asObject, json, noContent, parseJsonBody } from './http'
import type { Reply } from './http'
import { makeId } from './ids'
import type { FieldSpec, ObjectSchema, OrgSchema } from './schema'
import type { Store } from './store'
import { valueKey } from './store'

type Operation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete'
type State = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed'

const DELIMITERS: Record<string, string> = {
  COMMA: ',',
  SEMICOLON: ';',
  PIPE: '|',
  TAB: '\t',
  CARET: '^',
  BACKQUOTE: '`',
}

interface JobInfo {
  id: string
  operation: Operation
  object: string
  createdById: string
  createdDate: string
  systemModstamp: string
  state: State
  externalIdFieldName?: string
  concurrencyMode: 'Parallel'
  contentType: 'CSV'
  apiVersion: number
  contentUrl: string
  lineEnding: 'LF' | 'CRLF'
  columnDelimiter: string
  numberRecordsProcessed: number
  numberRecordsFailed: number
  retries: number
  totalProcessingTime: number
  apiActiveProcessingTime: number
  apexProcessingTime: number
  errorMessage?: string
}

interface JobResults {
  header: string[]
  successful: string[][]
  failed: string[][]
  unprocessed: string[][]
}

interface Job {
  info: JobInfo
  upload: string
  results: JobResults | null
  /** An injected row-lock failure chosen for the request that closed the job. */
  hooks: DmlHooks | null
}

export interface Bulk2Options {
  /** Time between closing a job and its processing, so that a client sees it in progress. */
  processingDelayMs: number
}

/** `sf__Error` as Salesforce writes it: `CODE:message:fields --`. */
function errorText(errors: RecordError[]): string {
  return errors.map((e) => `${e.statusCode}:${e.message}:${e.fields.join(',')} --`).join(' ')
}

const csv = (rows: string[][]): string => stringify(rows, { quoted: true, record_delimiter: '\n' })

/** Bulk API 2.0 ingest jobs: create, upload CSV, close, poll, results as CSV. */
export class Bulk2 {
  private readonly jobs = new Map<string, Job>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly schema: OrgSchema,
    private readonly store: Store,
    private readonly options: Bulk2Options,
  ) {
    const rows = store.db
      .prepare('SELECT info, upload, results FROM jobs ORDER BY rowid')
      .all() as {
      info: string
      upload: string
      results: string | null
    }[]
    for (const row of rows) {
      const info = JSON.parse(row.info) as JobInfo
      // A job caught mid-processing by a restart cannot say which rows it saved.
      if (info.state === 'UploadComplete' || info.state === 'InProgress') {
        info.state = 'Failed'
        info.errorMessage =
          'InternalServerError : the emulator stopped while the job was processing'
      }
      this.jobs.set(info.id, {
        info,
        upload: row.upload,
        results: row.results ? (JSON.parse(row.results) as JobResults) : null,
        hooks: null,
      })
    }
  }

  private save(job: Job): void {
    this.store.db
      .prepare('INSERT OR REPLACE INTO jobs (id, info, upload, results) VALUES (?, ?, ?, ?)')
      .run(
        job.info.id,
        JSON.stringify(job.info),
        job.upload,
        job.results ? JSON.stringify(job.results) : null,
      )
  }

  private job(id: string): Job {
    const job = this.jobs.get(id)
    if (!job) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
    return job
  }

  async handle(
    method: string,
    parts: string[],
    body: () => Promise<Buffer>,
    version: string,
    userId: string,
    hooks: DmlHooks,
  ): Promise<Reply> {
    if (parts.length === 0 && method === 'POST') {
      return this.create(asObject(parseJsonBody(await body()), 'JobInfo'), version, userId)
    }
    if (parts.length === 0 && method === 'GET') {
      return json(200, {
        done: true,
        records: [...this.jobs.values()].map((j) => j.info),
        nextRecordsUrl: null,
      })
    }
    const job = this.job(parts[0]!)
    if (parts.length === 1) {
      if (method === 'GET') return json(200, job.info)
      if (method === 'DELETE') {
        if (job.info.state === 'InProgress' || job.info.state === 'UploadComplete') {
          throw new ApiError(400, 'INVALIDJOBSTATE', 'Job in this state cannot be deleted')
        }
        this.jobs.delete(job.info.id)
        this.store.db.prepare('DELETE FROM jobs WHERE id = ?').run(job.info.id)
        return noContent()
      }
      if (method === 'PATCH') {
        const patch = asObject(parseJsonBody(await body()), 'JobInfo')
        return this.changeState(job, patch.state, hooks)
      }
    }
    if (parts.length === 2 && parts[1] === 'batches' && method === 'PUT') {
      if (job.info.state !== 'Open') {
        throw new ApiError(
          409,
          'INVALIDJOBSTATE',
          `Job ${job.info.id} is not Open: ${job.info.state}`,
        )
      }
      job.upload += (await body()).toString('utf8')
      this.save(job)
      return { status: 201 }
    }
    if (parts.length === 2 && method === 'GET') {
      const which = parts[1]!
      if (!['successfulResults', 'failedResults', 'unprocessedrecords'].includes(which))
        throw NOT_FOUND_RESOURCE()
      return this.results(job, which)
    }
    throw NOT_FOUND_RESOURCE()
  }

  private create(body: Record<string, unknown>, version: string, userId: string): Reply {
    const operation = body.operation
    if (!['insert', 'update', 'upsert', 'delete', 'hardDelete'].includes(String(operation))) {
      throw new ApiError(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${String(operation)}`)
    }
    const objectName = String((body.object as string | undefined) ?? '')
    const object = this.schema.byLowerName.get(objectName.toLowerCase())
    if (!object) {
      throw new ApiError(400, 'INVALIDJOB', `InvalidJob : Invalid sObject type: ${objectName}`)
    }
    let externalIdFieldName: string | undefined
    if (operation === 'upsert') {
      const name = typeof body.externalIdFieldName === 'string' ? body.externalIdFieldName : ''
      const field = object.byLowerName.get(name.toLowerCase())
      if (!field || !(field.externalId || field.name === 'Id')) {
        throw new ApiError(
          400,
          'INVALIDJOB',
          name
            ? `InvalidJob : Field ${name} is not an External ID field or does not exist on ${object.name}`
            : 'InvalidJob : External ID field name is required for upsert',
        )
      }
      externalIdFieldName = field.name
    }
    const delimiterName = String((body.columnDelimiter as string | undefined) ?? 'COMMA')
    if (!(delimiterName in DELIMITERS)) {
      throw new ApiError(
        400,
        'INVALIDJOB',
        `InvalidJob : Invalid column delimiter: ${delimiterName}`,
      )
    }
    const lineEnding = body.lineEnding === 'CRLF' ? 'CRLF' : 'LF'
    const id = makeId('750', this.store.next('id:750'))
    const now = formatDateTime(new Date())
    const info: JobInfo = {
      id,
      operation: operation as Operation,
      object: object.name,
      createdById: userId,
      createdDate: now,
      systemModstamp: now,
      state: 'Open',
      ...(externalIdFieldName ? { externalIdFieldName } : {}),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(version),
      contentUrl: `services/data/v${version}/jobs/ingest/${id}/batches`,
      lineEnding,
      columnDelimiter: delimiterName,
      numberRecordsProcessed: 0,
      numberRecordsFailed: 0,
      retries: 0,
      totalProcessingTime: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0,
    }
    const job: Job = { info, upload: '', results: null, hooks: null }
    this.jobs.set(id, job)
    this.save(job)
    return json(200, info)
  }

  private changeState(job: Job, state: unknown, hooks: DmlHooks): Reply {
    if (state === 'Aborted') {
      if (!['Open', 'UploadComplete'].includes(job.info.state)) {
        throw new ApiError(
          400,
          'INVALIDJOBSTATE',
          `Job in state ${job.info.state} cannot be aborted`,
        )
      }
      job.info.state = 'Aborted'
    } else if (state === 'UploadComplete') {
      if (job.info.state !== 'Open') {
        throw new ApiError(
          400,
          'INVALIDJOBSTATE',
          `Job in state ${job.info.state} cannot be closed`,
        )
      }
      job.info.state = 'UploadComplete'
      job.hooks = hooks
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        this.process(job)
      }, this.options.processingDelayMs)
      this.timers.add(timer)
    } else {
      throw new ApiError(400, 'INVALIDJOBSTATE', `Invalid state: ${String(state)}`)
    }
    job.info.systemModstamp = formatDateTime(new Date())
    this.save(job)
    return json(200, job.info)
  }

  private fail(job: Job, message: string): void {
    job.info.state = 'Failed'
    job.info.errorMessage = message
    job.results = { header: [], successful: [], failed: [], unprocessed: [] }
    this.save(job)
  }

  /** Maps the CSV header to fields; a column Salesforce would not know fails the whole job. */
  private checkHeader(object: ObjectSchema, header: string[], job: Job): string | null {
    for (const column of header) {
      const dot = column.indexOf('.')
      if (dot > 0) {
        const reference = object.relationships.get(column.slice(0, dot).toLowerCase())
        const parent = reference ? this.schema.objects.get(reference.referenceTo!) : undefined
        const key = parent?.byLowerName.get(column.slice(dot + 1).toLowerCase())
        if (!key || !(key.externalId || key.name === 'Id')) {
          return `InvalidBatch : InvalidBatch : Field name not found : ${column}`
        }
        continue
      }
      if (!object.byLowerName.get(column.toLowerCase())) {
        return `InvalidBatch : InvalidBatch : Field name not found : ${column}`
      }
    }
    const has = (name: string): boolean =>
      header.some((c) => c.toLowerCase() === name.toLowerCase())
    const op = job.info.operation
    if ((op === 'update' || op === 'delete' || op === 'hardDelete') && !has('Id')) {
      return 'InvalidBatch : InvalidBatch : Field name not found : Id'
    }
    if (op === 'upsert' && !has(job.info.externalIdFieldName!)) {
      return `InvalidBatch : InvalidBatch : Field name not found : ${job.info.externalIdFieldName}`
    }
    return null
  }

  private process(job: Job): void {
    if (job.info.state !== 'UploadComplete') return
    const started = Date.now()
    job.info.state = 'InProgress'
    this.save(job)
    const object = this.schema.objects.get(job.info.object)
    if (!object) {
      this.fail(job, `InvalidBatch : InvalidBatch : Invalid sObject type: ${job.info.object}`)
      return
    }
    let rows: string[][]
    try {
      rows = parse(job.upload, {
        delimiter: DELIMITERS[job.info.columnDelimiter] ?? ',',
        relax_column_count: true,
        skip_empty_lines: true,
        bom: true,
      })
    } catch (error) {
      this.fail(
        job,
        `InvalidBatch : InvalidBatch : Failed to parse CSV: ${(error as Error).message}`,
      )
      return
    }
    const [header, ...data] = rows
    if (!header || header.length === 0) {
      this.fail(job, 'InvalidBatch : InvalidBatch : No data provided')
      return
    }
    const headerError = this.checkHeader(object, header, job)
    if (headerError) {
      this.fail(job, headerError)
      return
    }
    const results: JobResults = { header, successful: [], failed: [], unprocessed: [] }
    const noLock: DmlHooks = { rules: () => [], lockFails: () => false }
    const dml = new Dml(this.schema, this.store, job.hooks ?? noLock)
    const extField: FieldSpec | undefined = job.info.externalIdFieldName
      ? object.byLowerName.get(job.info.externalIdFieldName.toLowerCase())
      : undefined
    const extIndex = extField
      ? header.findIndex((c) => c.toLowerCase() === extField.name.toLowerCase())
      : -1
    const idIndex = header.findIndex((c) => c.toLowerCase() === 'id')
    // An external id given twice in one job fails every row that carries it, as in a collection.
    const extCounts = new Map<string, number>()
    if (extField && extIndex >= 0) {
      for (const row of data) {
        const v = row[extIndex] ?? ''
        if (v !== '')
          extCounts.set(valueKey(extField, v), (extCounts.get(valueKey(extField, v)) ?? 0) + 1)
      }
    }
    // Rows are saved 200 at a time, as Salesforce chunks a job, yielding between chunks so
    // that polls are answered while a large job runs.
    const chunk = (start: number): void => {
      if (job.info.state !== 'InProgress') return
      const tx = this.store.begin()
      for (const row of data.slice(start, start + 200)) {
        const input: Record<string, unknown> = {}
        header.forEach((column, i) => {
          input[column] = row[i] ?? ''
        })
        let outcome: SaveOutcome
        const mark = tx.mark()
        try {
          if (row.length !== header.length) {
            outcome = {
              ok: false,
              errors: [
                {
                  statusCode: 'INVALID_FIELD',
                  message: `Number of columns (${row.length}) does not match the header (${header.length})`,
                  fields: [],
                },
              ],
            }
          } else if (job.info.operation === 'insert') {
            outcome = dml.create(tx, object, input, 'csv')
          } else if (job.info.operation === 'upsert') {
            const v = row[extIndex] ?? ''
            outcome =
              (extCounts.get(valueKey(extField!, v)) ?? 0) > 1
                ? {
                    ok: false,
                    errors: [
                      {
                        statusCode: 'DUPLICATE_VALUE',
                        message: `Duplicate external id specified: ${v}`,
                        fields: [],
                      },
                    ],
                  }
                : dml.upsert(tx, object, extField!, v, input, 'csv')
          } else if (job.info.operation === 'update') {
            outcome = dml.update(tx, object, row[idIndex] ?? '', input, 'csv')
          } else {
            outcome = dml.remove(tx, object, row[idIndex] ?? '')
          }
        } catch (error) {
          const e =
            error instanceof ApiError
              ? error
              : new ApiError(500, 'UNKNOWN_EXCEPTION', String(error))
          outcome = {
            ok: false,
            errors: [{ statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] }],
          }
        }
        if (!outcome.ok) tx.rollbackTo(mark)
        if (outcome.ok) results.successful.push([outcome.id, String(outcome.created), ...row])
        else results.failed.push([outcome.id ?? '', errorText(outcome.errors), ...row])
      }
      tx.commit()
      job.info.numberRecordsProcessed = results.successful.length + results.failed.length
      job.info.numberRecordsFailed = results.failed.length
      if (start + 200 < data.length) {
        this.save(job)
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          chunk(start + 200)
        }, 0)
        this.timers.add(timer)
        return
      }
      job.info.state = 'JobComplete'
      job.info.totalProcessingTime = Date.now() - started
      job.info.apiActiveProcessingTime = job.info.totalProcessingTime
      job.info.systemModstamp = formatDateTime(new Date())
      job.results = results
      job.hooks = null
      this.save(job)
    }
    chunk(0)
  }

  private results(job: Job, which: string): Reply {
    const header = job.results?.header ?? []
    const r = job.results
    // A job that failed or was aborted processed nothing: every uploaded row is unprocessed.
    const unprocessed =
      job.info.state === 'Failed' || job.info.state === 'Aborted'
        ? job.upload
        : csv(header.length > 0 ? [header, ...(r?.unprocessed ?? [])] : [])
    const text =
      which === 'successfulResults'
        ? csv([['sf__Id', 'sf__Created', ...header], ...(r?.successful ?? [])])
        : which === 'failedResults'
          ? csv([['sf__Id', 'sf__Error', ...header], ...(r?.failed ?? [])])
          : unprocessed
    return { status: 200, text, contentType: 'text/csv' }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }
}
