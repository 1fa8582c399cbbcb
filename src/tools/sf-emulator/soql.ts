import { parseQuery } from '@jetstreamapp/soql-parser-js'
import type {
  Condition,
  FieldType as SoqlField,
  LiteralType,
  Query,
  WhereClause,
} from '@jetstreamapp/soql-parser-js'
import { parseDateTime } from './dml'
import { ApiError } from './errors'
import { normalizeId } from './ids'
import type { FieldSpec, ObjectSchema, OrgSchema } from './schema'
import type { FieldValue, SfRecord, Store } from './store'

/** A field reached from the queried object, possibly through parent relationships. */
interface FieldPath {
  /** Reference fields walked, with the object each one lands on. */
  hops: { reference: FieldSpec; target: ObjectSchema }[]
  field: FieldSpec
  /** Output names: relationship names then the field name, as Salesforce spells them. */
  names: string[]
}

interface Cond {
  kind: 'cond'
  path: FieldPath
  operator: string
  values: (FieldValue | DateRange)[]
}
interface DateRange {
  from: number
  to: number
}
type Node = Cond | { kind: 'not'; node: Node } | { kind: 'and' | 'or'; nodes: Node[] }

export interface CompiledQuery {
  object: ObjectSchema
  count: boolean
  select: FieldPath[]
  where: Node | null
  orderBy: { path: FieldPath; desc: boolean; nullsLast: boolean }[]
  limit: number | undefined
  offset: number
}

const malformed = (message: string): ApiError => new ApiError(400, 'MALFORMED_QUERY', message)

/** The caret-and-position preamble Salesforce puts before a query error. */
function at(soql: string, token: string, message: string): string {
  const index = Math.max(0, soql.toLowerCase().indexOf(token.toLowerCase()))
  return `\n${soql}\n${' '.repeat(index)}^\nERROR at Row:1:Column:${index + 1}\n${message}`
}

function resolvePath(
  schema: OrgSchema,
  object: ObjectSchema,
  dotted: string,
  soql: string,
): FieldPath {
  const parts = dotted.split('.')
  // `SELECT Account.Name FROM Account` may prefix fields with the object's own name.
  if (parts.length > 1 && parts[0]!.toLowerCase() === object.name.toLowerCase()) parts.shift()
  const hops: FieldPath['hops'] = []
  const names: string[] = []
  let current = object
  for (const part of parts.slice(0, -1)) {
    const reference = current.relationships.get(part.toLowerCase())
    if (!reference) {
      throw new ApiError(
        400,
        'INVALID_FIELD',
        at(
          soql,
          dotted,
          `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        ),
      )
    }
    const target = schema.objects.get(reference.referenceTo!)!
    hops.push({ reference, target })
    names.push(reference.relationshipName!)
    current = target
  }
  const last = parts[parts.length - 1]!
  const field = current.byLowerName.get(last.toLowerCase())
  if (!field) {
    throw new ApiError(
      400,
      'INVALID_FIELD',
      at(
        soql,
        dotted,
        `No such column '${last}' on entity '${current.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      ),
    )
  }
  names.push(field.name)
  return { hops, field, names }
}

function literalTypeOf(t: LiteralType | LiteralType[] | undefined): LiteralType | undefined {
  return Array.isArray(t) ? t[0] : t
}

function unquote(text: string): string {
  return text
    .slice(1, -1)
    .replace(/\\(.)/g, (_m, c: string) =>
      c === 'n'
        ? '\n'
        : c === 't'
          ? '\t'
          : c === 'r'
            ? '\r'
            : c === 'b'
              ? '\b'
              : c === 'f'
                ? '\f'
                : c,
    )
}

function startOfUtcDay(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
}

const DAY = 86_400_000

/** Date literals, in UTC (the emulated org's time zone). */
function dateLiteral(text: string, soql: string): DateRange {
  const today = startOfUtcDay(Date.now())
  const [name, nText] = text.toUpperCase().split(':')
  const n = Number(nText ?? 0)
  switch (name) {
    case 'TODAY':
      return { from: today, to: today + DAY }
    case 'YESTERDAY':
      return { from: today - DAY, to: today }
    case 'TOMORROW':
      return { from: today + DAY, to: today + 2 * DAY }
    case 'LAST_N_DAYS':
      return { from: today - n * DAY, to: today + DAY }
    case 'NEXT_N_DAYS':
      return { from: today + DAY, to: today + (n + 1) * DAY }
    case 'N_DAYS_AGO':
      return { from: today - n * DAY, to: today - (n - 1) * DAY }
    default:
      throw malformed(at(soql, text, `the emulator does not support the date literal ${text}`))
  }
}

function typeName(field: FieldSpec): string {
  switch (field.type) {
    case 'double':
    case 'currency':
      return 'double'
    case 'datetime':
      return 'dateTime'
    case 'id':
    case 'reference':
      return 'id'
    default:
      return field.type
  }
}

function literalValue(
  field: FieldSpec,
  type: LiteralType | undefined,
  raw: string,
  soql: string,
): FieldValue | DateRange {
  const wrong = (): never => {
    throw new ApiError(
      400,
      'INVALID_QUERY_FILTER_OPERATOR',
      at(
        soql,
        raw,
        `value of filter criterion for field '${field.name}' must be of type ${typeName(field)} and should not be enclosed in quotes`,
      ),
    )
  }
  if (type === 'NULL') return null
  switch (field.type) {
    case 'double':
    case 'currency':
      if (type !== 'INTEGER' && type !== 'DECIMAL') return wrong()
      return Number(raw)
    case 'boolean':
      if (type !== 'BOOLEAN') return wrong()
      return raw.toUpperCase() === 'TRUE'
    case 'datetime':
    case 'date': {
      if (type === 'DATE_LITERAL' || type === 'DATE_N_LITERAL') return dateLiteral(raw, soql)
      if (type !== 'DATETIME' && type !== 'DATE') return wrong()
      if (field.type === 'datetime' && type === 'DATE') return wrong()
      const date = parseDateTime(raw)
      if (!date) return wrong()
      return field.type === 'date'
        ? { from: date.getTime(), to: date.getTime() + DAY }
        : date.getTime()
    }
    case 'id':
    case 'reference': {
      if (type !== 'STRING') return wrong()
      const text = unquote(raw)
      if (text === '') return null
      const id = normalizeId(text)
      if (!id)
        throw new ApiError(
          400,
          'INVALID_QUERY_FILTER_OPERATOR',
          at(soql, raw, `invalid ID field: ${text}`),
        )
      return id
    }
    default:
      if (type !== 'STRING') return wrong()
      return unquote(raw)
  }
}

/** The parser gives WHERE as a chain with parenthesis counts; rebuild the tokens, then a tree. */
type Token = { t: '(' | ')' | 'AND' | 'OR' | 'NOT' } | { t: 'cond'; c: Condition }

function tokens(where: WhereClause | undefined, out: Token[] = []): Token[] {
  if (!where) return out
  const left = where.left as (Condition & { openParen?: number; closeParen?: number }) | null
  if (left) {
    for (let i = 0; i < (left.openParen ?? 0); i += 1) out.push({ t: '(' })
    if ('field' in left || 'fn' in left) out.push({ t: 'cond', c: left })
    for (let i = 0; i < (left.closeParen ?? 0); i += 1) out.push({ t: ')' })
  }
  if ('operator' in where && where.operator) out.push({ t: where.operator })
  if ('right' in where && where.right) tokens(where.right, out)
  return out
}

function buildTree(list: Token[], toCond: (c: Condition) => Node, soql: string): Node {
  let i = 0
  const unary = (): Node => {
    const tok = list[i]
    if (!tok) throw malformed(at(soql, 'WHERE', 'unexpected end of WHERE clause'))
    i += 1
    if (tok.t === 'NOT') return { kind: 'not', node: unary() }
    if (tok.t === '(') {
      const inner = expr()
      if (list[i]?.t !== ')') throw malformed(at(soql, 'WHERE', 'expecting a right parentheses'))
      i += 1
      return inner
    }
    if (tok.t === 'cond') return toCond(tok.c)
    throw malformed(at(soql, tok.t, `unexpected token: ${tok.t}`))
  }
  const expr = (): Node => {
    const nodes = [unary()]
    let op: 'AND' | 'OR' | null = null
    while (list[i]?.t === 'AND' || list[i]?.t === 'OR') {
      const next = list[i]!.t as 'AND' | 'OR'
      // SOQL refuses `a OR b AND c`: mixing needs parentheses.
      if (op && op !== next) throw malformed(at(soql, next, `unexpected token: '${next}'`))
      op = next
      i += 1
      nodes.push(unary())
    }
    return op ? { kind: op === 'AND' ? 'and' : 'or', nodes } : nodes[0]!
  }
  const tree = expr()
  if (i !== list.length) throw malformed(at(soql, 'WHERE', 'unexpected token in WHERE clause'))
  return tree
}

/** Parses and checks a query against the schema; errors are Salesforce's 400s. */
export function compileQuery(soql: string, schema: OrgSchema): CompiledQuery {
  let parsed: Query
  try {
    parsed = parseQuery(soql)
  } catch (error) {
    throw malformed(`\n${soql}\n^\nERROR at Row:1:Column:1\n${(error as Error).message}`)
  }
  const objectName = parsed.sObject ?? ''
  const object = schema.byLowerName.get(objectName.toLowerCase())
  if (!object) {
    throw new ApiError(
      400,
      'INVALID_TYPE',
      at(
        soql,
        objectName,
        `sObject type '${objectName}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      ),
    )
  }
  const unsupported = (what: string): ApiError =>
    malformed(at(soql, what, `${what} is not supported by the Footfall Salesforce emulator`))
  if (parsed.groupBy) throw unsupported('GROUP BY')
  if (parsed.having) throw unsupported('HAVING')

  let count = false
  const select: FieldPath[] = []
  const seen = new Set<string>()
  for (const f of parsed.fields ?? ([] as SoqlField[])) {
    if (f.type === 'FieldFunctionExpression') {
      if (f.functionName.toUpperCase() === 'COUNT' && f.parameters.length === 0) {
        count = true
        continue
      }
      throw unsupported(`${f.functionName}()`)
    }
    if (f.type === 'FieldSubquery') throw unsupported('a subquery')
    if (f.type === 'FieldTypeof') throw unsupported('TYPEOF')
    const dotted =
      f.type === 'FieldRelationship'
        ? (f.rawValue ?? [...f.relationships, f.field].join('.'))
        : f.field
    const path = resolvePath(schema, object, dotted, soql)
    const key = path.names.join('.').toLowerCase()
    if (seen.has(key))
      throw malformed(at(soql, dotted, `duplicate field selected: ${path.names.join('.')}`))
    seen.add(key)
    select.push(path)
  }
  if (count && select.length > 0) {
    throw malformed(at(soql, 'COUNT', 'COUNT() must be the only element in the SELECT list.'))
  }

  const toCond = (c: Condition): Node => {
    if (!('field' in c)) throw unsupported('a function in WHERE')
    if ('valueQuery' in c) throw unsupported('a semi-join')
    const path = resolvePath(schema, object, c.field, soql)
    const type = literalTypeOf(c.literalType)
    const raw = Array.isArray(c.value) ? c.value : [c.value]
    const operator = c.operator.toUpperCase()
    if ((operator === 'IN' || operator === 'NOT IN') !== Array.isArray(c.value)) {
      throw malformed(at(soql, c.field, `unexpected token: ${operator}`))
    }
    if (
      operator === 'LIKE' &&
      !['string', 'phone', 'textarea', 'picklist', 'autonumber', 'id', 'reference'].includes(
        path.field.type,
      )
    ) {
      throw new ApiError(
        400,
        'INVALID_QUERY_FILTER_OPERATOR',
        at(soql, c.field, `invalid operator on ${typeName(path.field)} field: LIKE`),
      )
    }
    const values =
      operator === 'LIKE'
        ? raw.map((r) => (type === 'STRING' ? unquote(r) : literalValue(path.field, type, r, soql)))
        : raw.map((r) => literalValue(path.field, type, r, soql))
    return { kind: 'cond', path, operator, values }
  }
  const list = tokens(parsed.where)
  const where = list.length > 0 ? buildTree(list, toCond, soql) : null

  const orderBy = (
    Array.isArray(parsed.orderBy) ? parsed.orderBy : parsed.orderBy ? [parsed.orderBy] : []
  ).map((o) => {
    if (!('field' in o)) throw unsupported('ORDER BY a function')
    const desc = o.order === 'DESC'
    return {
      path: resolvePath(schema, object, o.field, soql),
      desc,
      nullsLast: o.nulls ? o.nulls === 'LAST' : desc,
    }
  })
  return { object, count, select, where, orderBy, limit: parsed.limit, offset: parsed.offset ?? 0 }
}

function valueAt(store: Store, record: SfRecord, path: FieldPath): FieldValue {
  let current: SfRecord | undefined = record
  for (const hop of path.hops) {
    const id: FieldValue | undefined = current[hop.reference.name]
    current = typeof id === 'string' ? store.get(hop.target.name, id) : undefined
    if (!current) return null
  }
  return current[path.field.name] ?? null
}

const TEXT = new Set(['string', 'phone', 'textarea', 'picklist', 'autonumber'])

/** Comparable form: text case-insensitively, datetimes as epoch ms. */
function comparable(field: FieldSpec, value: FieldValue): string | number | boolean | null {
  if (value === null) return null
  if (TEXT.has(field.type) && typeof value === 'string') return value.toLowerCase()
  if ((field.type === 'datetime' || field.type === 'date') && typeof value === 'string') {
    return parseDateTime(value)?.getTime() ?? null
  }
  return value
}

function likeToRegExp(pattern: string): RegExp {
  let out = ''
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!
    if (c === '\\' && i + 1 < pattern.length) {
      out += pattern[i + 1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      i += 1
    } else if (c === '%') out += '.*'
    else if (c === '_') out += '.'
    else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${out}$`, 'is')
}

function test(cond: Cond, actual: FieldValue): boolean {
  const field = cond.path.field
  const a = comparable(field, actual)
  const eq = (v: FieldValue | DateRange): boolean => {
    if (v !== null && typeof v === 'object') return typeof a === 'number' && a >= v.from && a < v.to
    return a === comparable(field, v)
  }
  const cmp = (v: FieldValue | DateRange): number | null => {
    if (a === null || v === null) return null
    if (typeof v === 'object') {
      if (typeof a !== 'number') return null
      return a < v.from ? -1 : a >= v.to ? 1 : 0
    }
    const b = comparable(field, v)
    if (b === null) return null
    return a < b ? -1 : a > b ? 1 : 0
  }
  const first = cond.values[0] ?? null
  switch (cond.operator) {
    case '=':
      return eq(first)
    case '!=':
      return !eq(first)
    case '<':
      return (cmp(first) ?? 0) < 0 && cmp(first) !== null
    case '<=':
      return cmp(first) !== null && cmp(first)! <= 0
    case '>':
      return cmp(first) !== null && cmp(first)! > 0
    case '>=':
      return cmp(first) !== null && cmp(first)! >= 0
    case 'IN':
      return cond.values.some(eq)
    case 'NOT IN':
      return !cond.values.some(eq)
    case 'LIKE':
      return (
        typeof actual === 'string' && typeof first === 'string' && likeToRegExp(first).test(actual)
      )
    default:
      return false
  }
}

function matches(store: Store, record: SfRecord, node: Node): boolean {
  switch (node.kind) {
    case 'cond':
      return test(node, valueAt(store, record, node.path))
    case 'not':
      return !matches(store, record, node.node)
    case 'and':
      return node.nodes.every((n) => matches(store, record, n))
    case 'or':
      return node.nodes.some((n) => matches(store, record, n))
  }
}

export function recordUrl(version: string, object: string, id: string): string {
  return `/services/data/v${version}/sobjects/${object}/${id}`
}

function shape(
  store: Store,
  record: SfRecord,
  query: CompiledQuery,
  version: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    attributes: { type: query.object.name, url: recordUrl(version, query.object.name, record.Id) },
  }
  for (const path of query.select) {
    let target = out
    let current: SfRecord | undefined = record
    let broken = false
    for (const [i, hop] of path.hops.entries()) {
      const name = path.names[i]!
      const id: FieldValue | undefined = current?.[hop.reference.name]
      current = typeof id === 'string' ? store.get(hop.target.name, id) : undefined
      if (!current) {
        // A missing parent is `null`, not an object of nulls.
        if (!(name in target)) target[name] = null
        broken = true
        break
      }
      if (!target[name] || typeof target[name] !== 'object') {
        target[name] = {
          attributes: {
            type: hop.target.name,
            url: recordUrl(version, hop.target.name, current.Id),
          },
        }
      }
      target = target[name] as Record<string, unknown>
    }
    if (!broken) target[path.field.name] = current?.[path.field.name] ?? null
  }
  return out
}

/**
 * Records that can match, found through an external-id or unique index when the WHERE clause
 * requires `field = 'x'` or `field IN (...)` on such a field (the sync engine's lookups); null
 * means scan everything. The full condition is still applied afterwards.
 */
function candidates(query: CompiledQuery, store: Store): SfRecord[] | null {
  const where = query.where
  const conds = !where
    ? []
    : where.kind === 'cond'
      ? [where]
      : where.kind === 'and'
        ? where.nodes
        : []
  for (const c of conds) {
    if (c.kind !== 'cond' || c.path.hops.length > 0) continue
    const field = c.path.field
    if (!(field.externalId || field.unique) || (c.operator !== '=' && c.operator !== 'IN')) continue
    if (!c.values.every((v) => typeof v === 'string')) continue
    const ids = new Set(c.values.flatMap((v) => store.findBy(query.object, field, v)))
    // Keep the natural order of a scan (creation order, which is id order: ids count up in
    // base 62 with digits before letters) so that results do not depend on the index.
    return [...ids]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((id) => store.get(query.object.name, id)!)
  }
  return null
}

/** Runs a compiled query: every matching record shaped as the REST API returns it. */
export function runQuery(
  query: CompiledQuery,
  store: Store,
  version: string,
): { totalSize: number; records: Record<string, unknown>[] } {
  let rows = candidates(query, store) ?? store.all(query.object.name)
  if (query.where) rows = rows.filter((r) => matches(store, r, query.where!))
  if (query.orderBy.length > 0) {
    const keyed = rows.map((r) => ({
      r,
      keys: query.orderBy.map((o) => comparable(o.path.field, valueAt(store, r, o.path))),
    }))
    keyed.sort((x, y) => {
      for (const [i, o] of query.orderBy.entries()) {
        const a = x.keys[i] ?? null
        const b = y.keys[i] ?? null
        if (a === b) continue
        if (a === null) return o.nullsLast ? 1 : -1
        if (b === null) return o.nullsLast ? -1 : 1
        const c = a < b ? -1 : 1
        return o.desc ? -c : c
      }
      return 0
    })
    rows = keyed.map((k) => k.r)
  }
  rows = rows.slice(
    query.offset,
    query.limit === undefined ? undefined : query.offset + query.limit,
  )
  if (query.count) return { totalSize: rows.length, records: [] }
  return { totalSize: rows.length, records: rows.map((r) => shape(store, r, query, version)) }
}
