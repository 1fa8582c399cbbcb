import { randomBytes } from 'node:crypto'
import type { ApiUsage } from './api-usage'
import { Dml } from './dml'
import type { DmlHooks, SaveOutcome } from './dml'
import { ApiError, NOT_FOUND_RESOURCE } from './errors'
import type { RecordError } from './errors'
import { asObject, json, noContent, parseJsonBody, pathSegments } from './http'
import type { Reply } from './http'
import { normalizeId } from './ids'
import { describeField } from './schema'
import type { ObjectSchema, OrgSchema } from './schema'
import { compileQuery, recordUrl, runQuery } from './soql'
import type { SfRecord, Store, UnitOfWork } from './store'
import { valueKey } from './store'

/** Salesforce's cap on records in one sObject Collections call. */
export const COLLECTION_LIMIT = 200
/** Records in one page of query results (Salesforce's default and maximum batch size). */
export const QUERY_PAGE_SIZE = 2000
/** Query cursors expire after 15 minutes of inactivity, as Salesforce's do. */
const CURSOR_TTL_MS = 15 * 60_000

const ROLLED_BACK: RecordError = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message:
    'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
}

/**
 * Whether a REST request saves records (only those can meet a row lock); a POST to
 * /composite/sobjects/{Object} only reads them.
 */
export function savesRecords(method: string, path: string): boolean {
  return (
    ['POST', 'PATCH', 'DELETE'].includes(method) &&
    /^\/(sobjects|composite)\//.test(path) &&
    !(method === 'POST' && /^\/composite\/sobjects\/[^/]+$/.test(path))
  )
}

export interface RestRequest {
  method: string
  /** Path below `/services/data/vNN.0`, e.g. `/sobjects/Account/describe`. */
  path: string
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  version: string
  body: () => Promise<Buffer>
  hooks: DmlHooks
  /** The composite request this is a subrequest of: its saves join that unit of work. */
  tx?: UnitOfWork
  /** A composite with allOrNone makes every collection all-or-none, whatever its own flag. */
  forceAllOrNone?: boolean
}

interface Cursor {
  records: Record<string, unknown>[]
  totalSize: number
  pageSize: number
  touched: number
}

export class RestApi {
  private readonly cursors = new Map<string, Cursor>()

  constructor(
    private readonly schema: OrgSchema,
    private readonly store: Store,
    private readonly usage: ApiUsage,
  ) {}

  /** A unit of work of its own, or a part of the composite request's. */
  private begin(req: RestRequest): UnitOfWork {
    return req.tx ? req.tx.nested() : this.store.begin()
  }

  private object(name: string): ObjectSchema {
    const object = this.schema.byLowerName.get(name.toLowerCase())
    if (!object) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')
    return object
  }

  async handle(req: RestRequest): Promise<Reply> {
    const parts = pathSegments(req.path)
    const [head, ...rest] = parts
    const method = req.method
    if (head === undefined && method === 'GET') return json(200, this.resources(req.version))
    if ((head === 'query' || head === 'queryAll') && method === 'GET') {
      return rest.length === 0 ? this.query(req) : this.queryMore(rest[0]!, req.version)
    }
    if (head === 'limits' && method === 'GET' && rest.length === 0) return json(200, this.limits())
    if (head === 'sobjects') return this.sobjects(rest, req)
    if (head === 'composite' && rest[0] === 'sobjects') return this.collections(rest.slice(1), req)
    throw NOT_FOUND_RESOURCE()
  }

  private resources(version: string): Record<string, string> {
    const base = `/services/data/v${version}`
    return {
      limits: `${base}/limits`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      sobjects: `${base}/sobjects`,
      composite: `${base}/composite`,
      jobs: `${base}/jobs`,
    }
  }

  limits(): Record<string, { Max: number; Remaining: number }> {
    const max = this.usage.max
    return {
      DailyApiRequests: { Max: max, Remaining: Math.max(0, max - this.usage.used()) },
      DailyBulkV2QueryFileStorageMB: { Max: 976562, Remaining: 976562 },
      DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
      DataStorageMB: { Max: 5, Remaining: 5 },
      FileStorageMB: { Max: 20, Remaining: 20 },
    }
  }

  // --- query ---------------------------------------------------------------------------------

  private pageSize(req: RestRequest): number {
    const header = req.headers['sforce-query-options']
    const m = /batchSize\s*=\s*(\d+)/i.exec(
      Array.isArray(header) ? header.join(',') : (header ?? ''),
    )
    return m ? Math.min(QUERY_PAGE_SIZE, Math.max(200, Number(m[1]))) : QUERY_PAGE_SIZE
  }

  private query(req: RestRequest): Reply {
    const soql = req.query.get('q')
    if (!soql) {
      throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified')
    }
    const compiled = compileQuery(soql, this.schema)
    const { totalSize, records } = runQuery(compiled, this.store, req.version)
    const pageSize = this.pageSize(req)
    if (records.length <= pageSize) return json(200, { totalSize, done: true, records })
    this.expireCursors()
    const cursorId = `0r8${randomBytes(8).toString('hex').slice(0, 15)}`
    this.cursors.set(cursorId, { records, totalSize, pageSize, touched: Date.now() })
    return json(200, this.page(cursorId, 0, req.version))
  }

  private page(cursorId: string, offset: number, version: string): Record<string, unknown> {
    const cursor = this.cursors.get(cursorId)!
    cursor.touched = Date.now()
    const end = offset + cursor.pageSize
    const done = end >= cursor.records.length
    if (done) this.cursors.delete(cursorId)
    return {
      totalSize: cursor.totalSize,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${cursorId}-${end}` }),
      records: cursor.records.slice(offset, end),
    }
  }

  private queryMore(locator: string, version: string): Reply {
    const m = /^(.+)-(\d+)$/.exec(locator)
    const cursor = m ? this.cursors.get(m[1]!) : undefined
    if (!m || !cursor || Number(m[2]) >= cursor.records.length) {
      throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')
    }
    return json(200, this.page(m[1]!, Number(m[2]), version))
  }

  private expireCursors(): void {
    const now = Date.now()
    for (const [id, c] of this.cursors) if (now - c.touched > CURSOR_TTL_MS) this.cursors.delete(id)
  }

  // --- single records ------------------------------------------------------------------------

  private describeGlobal(): Record<string, unknown> {
    return {
      encoding: 'UTF-8',
      maxBatchSize: COLLECTION_LIMIT,
      sobjects: [...this.schema.objects.values()].map((o) => this.objectSummary(o)),
    }
  }

  private objectSummary(o: ObjectSchema): Record<string, unknown> {
    return {
      name: o.name,
      label: o.spec.label,
      labelPlural: o.spec.labelPlural,
      keyPrefix: o.spec.keyPrefix,
      custom: o.spec.custom,
      createable: true,
      updateable: true,
      deletable: true,
      queryable: true,
      retrieveable: true,
      searchable: true,
      layoutable: true,
      urls: {
        sobject: `/services/data/vXX.X/sobjects/${o.name}`,
        describe: `/services/data/vXX.X/sobjects/${o.name}/describe`,
        rowTemplate: `/services/data/vXX.X/sobjects/${o.name}/{ID}`,
      },
    }
  }

  private describe(o: ObjectSchema, version: string): Record<string, unknown> {
    const summary = this.objectSummary(o)
    const base = `/services/data/v${version}/sobjects/${o.name}`
    return {
      ...summary,
      urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
      fields: [...o.fields.values()].map((f) => describeField(f)),
      childRelationships: [...this.schema.objects.values()].flatMap((child) =>
        [...child.fields.values()]
          .filter((f) => f.referenceTo === o.name)
          .map((f) => ({
            childSObject: child.name,
            field: f.name,
            relationshipName: child.spec.custom ? `${child.name.replace(/__c$/, '')}s__r` : null,
            cascadeDelete: false,
          })),
      ),
      recordTypeInfos: [],
    }
  }

  private shapeRecord(
    o: ObjectSchema,
    record: SfRecord,
    version: string,
    fields?: string[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {
      attributes: { type: o.name, url: recordUrl(version, o.name, record.Id) },
    }
    const names = fields ?? [...o.fields.keys()]
    for (const name of names) {
      const field = o.byLowerName.get(name.trim().toLowerCase())
      if (!field) {
        throw new ApiError(
          400,
          'INVALID_FIELD',
          `No such column '${name.trim()}' on entity '${o.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        )
      }
      out[field.name] = record[field.name] ?? null
    }
    return out
  }

  private async sobjects(parts: string[], req: RestRequest): Promise<Reply> {
    const method = req.method
    if (parts.length === 0) {
      if (method === 'GET') return json(200, this.describeGlobal())
      throw NOT_FOUND_RESOURCE()
    }
    const object = this.object(parts[0]!)
    const dml = new Dml(this.schema, this.store, req.hooks)
    if (parts.length === 1) {
      if (method === 'GET')
        return json(200, { objectDescribe: this.objectSummary(object), recentItems: [] })
      if (method === 'POST') {
        const body = asObject(parseJsonBody(await req.body()), object.name)
        return this.single(req, (tx) => dml.create(tx, object, body, 'json'), 201)
      }
      throw NOT_FOUND_RESOURCE()
    }
    if (parts.length === 2 && parts[1] === 'describe' && method === 'GET') {
      return json(200, this.describe(object, req.version))
    }
    if (parts.length === 2) {
      const id = normalizeId(parts[1]!)
      const record =
        id && id.startsWith(object.spec.keyPrefix) ? this.store.get(object.name, id) : undefined
      if (!id) {
        throw new ApiError(
          404,
          'NOT_FOUND',
          `Provided external ID field does not exist or is not accessible: ${parts[1]}`,
        )
      }
      if (method === 'GET') {
        if (!record) throw NOT_FOUND_RESOURCE()
        const fields = req.query.get('fields')
        return json(
          200,
          this.shapeRecord(object, record, req.version, fields ? fields.split(',') : undefined),
        )
      }
      if (method === 'PATCH') {
        if (!record) throw NOT_FOUND_RESOURCE()
        const body = asObject(parseJsonBody(await req.body()), object.name)
        return this.single(req, (tx) => dml.update(tx, object, id, body, 'json'), 204)
      }
      if (method === 'DELETE') {
        if (!record) throw NOT_FOUND_RESOURCE()
        return this.single(req, (tx) => dml.remove(tx, object, id), 204)
      }
      throw NOT_FOUND_RESOURCE()
    }
    if (parts.length === 3) return this.byExternalId(object, parts[1]!, parts[2]!, req, dml)
    throw NOT_FOUND_RESOURCE()
  }

  /** Runs one save in its own unit of work; a record error is a 400 with the error array. */
  private single(req: RestRequest, run: (tx: UnitOfWork) => SaveOutcome, okStatus: number): Reply {
    const tx = this.begin(req)
    let outcome: SaveOutcome
    try {
      outcome = run(tx)
    } catch (error) {
      tx.rollback()
      throw error
    }
    if (!outcome.ok) {
      tx.rollback()
      return json(
        outcome.errors[0]?.statusCode === 'ENTITY_IS_DELETED' ? 404 : 400,
        outcome.errors.map((e) => ({
          message: e.message,
          errorCode: e.statusCode,
          fields: e.fields,
        })),
      )
    }
    tx.commit()
    if (okStatus === 204) return noContent()
    return json(okStatus, { id: outcome.id, success: true, errors: [] })
  }

  private async byExternalId(
    object: ObjectSchema,
    fieldName: string,
    value: string,
    req: RestRequest,
    dml: Dml,
  ): Promise<Reply> {
    const field = object.byLowerName.get(fieldName.toLowerCase())
    if (!field || !(field.externalId || field.name === 'Id')) {
      throw new ApiError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${fieldName}`,
      )
    }
    const urls = (ids: string[]): string[] =>
      ids.map((id) => recordUrl(req.version, object.name, id))
    if (req.method === 'GET') {
      const ids = this.store.findBy(object, field, value)
      if (ids.length === 0) throw NOT_FOUND_RESOURCE()
      if (ids.length > 1) return json(300, urls(ids))
      return json(200, this.shapeRecord(object, this.store.get(object.name, ids[0]!)!, req.version))
    }
    if (req.method !== 'PATCH' && req.method !== 'POST') throw NOT_FOUND_RESOURCE()
    const body = asObject(parseJsonBody(await req.body()), object.name)
    for (const key of Object.keys(body)) {
      if (key.toLowerCase() === field.name.toLowerCase() && String(body[key]) !== value) {
        throw new ApiError(
          400,
          'INVALID_FIELD',
          `The value of ${field.name} in the request body and the URL do not match: ${String(body[key])} vs ${value}`,
        )
      }
    }
    const tx = this.begin(req)
    let outcome: SaveOutcome
    try {
      outcome = dml.upsert(tx, object, field, value, body, 'json')
    } catch (error) {
      tx.rollback()
      throw error
    }
    if (!outcome.ok) {
      tx.rollback()
      if (outcome.multiple) return json(300, urls(outcome.multiple))
      return json(
        400,
        outcome.errors.map((e) => ({
          message: e.message,
          errorCode: e.statusCode,
          fields: e.fields,
        })),
      )
    }
    tx.commit()
    // Since API 46.0 an update by upsert answers 200 with a body; before, 204.
    if (!outcome.created && Number(req.version) < 46) return noContent()
    return json(outcome.created ? 201 : 200, {
      id: outcome.id,
      success: true,
      errors: [],
      created: outcome.created,
    })
  }

  // --- sObject Collections ------------------------------------------------------------------

  private async collections(parts: string[], req: RestRequest): Promise<Reply> {
    const dml = new Dml(this.schema, this.store, req.hooks)
    if (req.method === 'DELETE' && parts.length === 0) {
      const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean)
      this.checkCount(ids.length)
      const allOrNone = req.forceAllOrNone === true || req.query.get('allOrNone') === 'true'
      return this.batch(req, ids, allOrNone, false, (tx, id) => {
        const full = normalizeId(id)
        if (!full) {
          return {
            ok: false,
            id,
            errors: [{ statusCode: 'MALFORMED_ID', message: `malformed id ${id}`, fields: [] }],
          }
        }
        const found = this.store.getAny(full)
        if (!found)
          return {
            ok: false,
            id,
            errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }],
          }
        return dml.remove(tx, found.object, found.record.Id)
      })
    }
    const body = asObject(parseJsonBody(await req.body()), 'SObjectCollection')
    const allOrNone = req.forceAllOrNone === true || body.allOrNone === true
    if (req.method === 'POST' && parts.length === 1)
      return this.retrieveMany(this.object(parts[0]!), body, req.version)
    const records = body.records
    if (!Array.isArray(records)) {
      throw new ApiError(
        400,
        'INVALID_FIELD',
        'records is a required field and must be a list of records',
      )
    }
    this.checkCount(records.length)
    const inputs = records.map((r) => asObject(r, 'SObject'))
    if (req.method === 'POST' && parts.length === 0) {
      return this.batch(req, inputs, allOrNone, false, (tx, input) => {
        const object = this.typeOf(input)
        if ('errors' in object) return object
        return dml.create(tx, object, input, 'json')
      })
    }
    if (req.method === 'PATCH' && parts.length === 0) {
      return this.batch(req, inputs, allOrNone, false, (tx, input) => {
        const object = this.typeOf(input)
        if ('errors' in object) return object
        const id = input.id ?? input.Id
        if (typeof id !== 'string' || id === '') {
          return {
            ok: false,
            errors: [
              {
                statusCode: 'MISSING_ARGUMENT',
                message: 'Id not specified in an update call',
                fields: [],
              },
            ],
          }
        }
        return dml.update(tx, object, id, input, 'json')
      })
    }
    if (req.method === 'PATCH' && parts.length === 2) {
      const object = this.object(parts[0]!)
      const field = object.byLowerName.get(parts[1]!.toLowerCase())
      if (!field || !(field.externalId || field.name === 'Id')) {
        throw new ApiError(
          404,
          'NOT_FOUND',
          `Provided external ID field does not exist or is not accessible: ${parts[1]}`,
        )
      }
      const extValue = (input: Record<string, unknown>): string => {
        const key = Object.keys(input).find((k) => k.toLowerCase() === field.name.toLowerCase())
        const v = key ? input[key] : undefined
        return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)
      }
      // Salesforce refuses every record whose external id appears twice in one call.
      const seen = new Map<string, number>()
      for (const input of inputs) {
        const v = extValue(input)
        if (v !== '') seen.set(valueKey(field, v), (seen.get(valueKey(field, v)) ?? 0) + 1)
      }
      return this.batch(req, inputs, allOrNone, true, (tx, input) => {
        const v = extValue(input)
        if (v !== '' && (seen.get(valueKey(field, v)) ?? 0) > 1) {
          return {
            ok: false,
            errors: [
              {
                statusCode: 'DUPLICATE_VALUE',
                message: `Duplicate external id specified: ${v}`,
                fields: [],
              },
            ],
          }
        }
        const type = this.typeOf(input)
        if ('errors' in type) return type
        if (type.name !== object.name) {
          return {
            ok: false,
            errors: [
              {
                statusCode: 'INVALID_TYPE',
                message: `Record type ${type.name} does not match ${object.name} in the URL`,
                fields: [],
              },
            ],
          }
        }
        return dml.upsert(tx, object, field, v, input, 'json')
      })
    }
    throw NOT_FOUND_RESOURCE()
  }

  private checkCount(n: number): void {
    if (n > COLLECTION_LIMIT) {
      throw new ApiError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
      )
    }
  }

  private typeOf(input: Record<string, unknown>): ObjectSchema | (SaveOutcome & { ok: false }) {
    const attributes = input.attributes as { type?: unknown } | undefined
    const type = attributes && typeof attributes === 'object' ? attributes.type : undefined
    if (typeof type !== 'string' || type === '') {
      return {
        ok: false,
        errors: [
          {
            statusCode: 'INVALID_TYPE',
            message: 'Must provide sObject type in attributes',
            fields: [],
          },
        ],
      }
    }
    const object = this.schema.byLowerName.get(type.toLowerCase())
    if (!object) {
      throw new ApiError(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`)
    }
    return object
  }

  /**
   * Saves records one by one, in order, each with its own savepoint. With allOrNone, one failure
   * undoes them all and the others answer ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  private batch<T>(
    req: RestRequest,
    items: T[],
    allOrNone: boolean,
    upsert: boolean,
    run: (tx: UnitOfWork, item: T) => SaveOutcome,
  ): Reply {
    const tx = this.begin(req)
    const outcomes: SaveOutcome[] = []
    try {
      for (const item of items) {
        const mark = tx.mark()
        const outcome = run(tx, item)
        if (!outcome.ok) tx.rollbackTo(mark)
        outcomes.push(outcome)
      }
    } catch (error) {
      tx.rollback()
      throw error
    }
    const failed = outcomes.some((o) => !o.ok)
    if (allOrNone && failed) tx.rollback()
    else tx.commit()
    return json(
      200,
      outcomes.map((o) => {
        if (!o.ok) {
          return { ...(o.id ? { id: o.id } : {}), success: false, errors: o.errors }
        }
        if (allOrNone && failed) {
          return { ...(o.created ? {} : { id: o.id }), success: false, errors: [ROLLED_BACK] }
        }
        return { id: o.id, success: true, errors: [], ...(upsert ? { created: o.created } : {}) }
      }),
    )
  }

  private retrieveMany(
    object: ObjectSchema,
    body: Record<string, unknown>,
    version: string,
  ): Reply {
    const ids = body.ids
    const fields = body.fields
    if (!Array.isArray(ids) || !Array.isArray(fields)) {
      throw new ApiError(400, 'INVALID_FIELD', 'ids and fields are required lists')
    }
    this.checkCount(ids.length)
    return json(
      200,
      ids.map((id) => {
        const full = typeof id === 'string' ? normalizeId(id) : null
        const record = full ? this.store.get(object.name, full) : undefined
        return record ? this.shapeRecord(object, record, version, fields.map(String)) : null
      }),
    )
  }
}
