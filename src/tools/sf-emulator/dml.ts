import { ApiError, jsonParserError } from './errors'
import type { RecordError } from './errors'
import { normalizeId } from './ids'
import { isCreateable } from './schema'
import type { FieldSpec, ObjectSchema, OrgSchema } from './schema'
import type { FieldValue, SfRecord, Store, UnitOfWork } from './store'

/** Where record values come from: JSON (REST) deserializes strictly, CSV (Bulk) per record. */
export type Source = 'json' | 'csv'

/** A rule that rejects some records, as an admin's validation rule would (a fault to inject). */
export interface ValidationRuleSpec {
  object: string
  field: string
  /** Reject when the field's value, as text, matches this regular expression. */
  pattern: string
  message: string
  /** The field the error is shown on; omitted, the error is at the top of the page (no fields). */
  errorField?: string
}

export type SaveOutcome =
  | { ok: true; id: string; created: boolean }
  | { ok: false; id?: string; errors: RecordError[]; multiple?: string[] }

export interface DmlHooks {
  rules(): ValidationRuleSpec[]
  /** Whether this record of the request fails with UNABLE_TO_LOCK_ROW (an injected fault). */
  lockFails(): boolean
}

class RecordFailure extends Error {
  constructor(readonly error: RecordError) {
    super(error.message)
  }
}

const fail = (statusCode: string, message: string, fields: string[] = []): never => {
  throw new RecordFailure({ statusCode, message, fields })
}

/** Salesforce's datetime form in JSON: `2024-05-01T10:00:00.000+0000`. */
export function formatDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000')
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Parses an ISO-8601 date-time as Salesforce accepts it; null when it is not one. */
export function parseDateTime(text: string): Date | null {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
      text.trim(),
    )
  if (!m) return null
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '0', zone = 'Z'] = m
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${frac.padEnd(3, '0').slice(0, 3)}${zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return null
  // Date rolls 2024-02-31 over into March; Salesforce refuses it.
  if (zone === 'Z' && date.toISOString().slice(0, 10) !== `${y}-${mo}-${d}`) return null
  return date
}

export class Dml {
  constructor(
    private readonly schema: OrgSchema,
    private readonly store: Store,
    private readonly hooks: DmlHooks,
  ) {}

  /** Turns one input value into the stored form, or fails as Salesforce does for its type. */
  private coerce(field: FieldSpec, raw: unknown, source: Source): FieldValue {
    const typeError = (): never => {
      if (source === 'json') {
        const kind =
          typeof raw === 'string'
            ? 'VALUE_STRING'
            : typeof raw === 'number'
              ? 'VALUE_NUMBER_INT'
              : 'START_OBJECT'
        throw jsonParserError(
          `Cannot deserialize instance of ${field.type} from ${kind} value ${describeValue(raw)} or request may be missing a required field`,
        )
      }
      return fail(
        'INVALID_TYPE_ON_FIELD_IN_RECORD',
        `${field.label}: value not of required type: ${describeValue(raw)}`,
        [field.name],
      )
    }
    if (raw === null) return field.type === 'boolean' ? false : null
    if (typeof raw === 'object') {
      if (source === 'json') {
        throw jsonParserError(
          `Cannot deserialize instance of ${field.type} from ${Array.isArray(raw) ? 'START_ARRAY' : 'START_OBJECT'} value ${JSON.stringify(raw)} or request may be missing a required field`,
        )
      }
      return typeError()
    }
    switch (field.type) {
      case 'string':
      case 'phone':
      case 'textarea':
      case 'picklist': {
        const text = describeValue(raw)
        const max = field.length ?? 255
        if (text.length > max) {
          fail(
            'STRING_TOO_LONG',
            `${field.label}: data value too large: ${text} (max length=${max})`,
            [field.name],
          )
        }
        if (field.type === 'picklist' && field.restricted && !(field.values ?? []).includes(text)) {
          fail(
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            `${field.label}: bad value for restricted picklist field: ${text}`,
            [field.name],
          )
        }
        return text === '' ? null : text
      }
      case 'double':
      case 'currency': {
        if (typeof raw === 'boolean') return typeError()
        const n = typeof raw === 'number' ? raw : Number(describeValue(raw).trim())
        if (typeof raw === 'string' && raw.trim() === '') return null
        if (!Number.isFinite(n)) return typeError()
        const scale = field.scale ?? 0
        const intDigits = (field.precision ?? 18) - scale
        const rounded = Number(n.toFixed(scale))
        if (
          Math.abs(Math.trunc(rounded)).toString().length > intDigits &&
          Math.trunc(rounded) !== 0
        ) {
          fail(
            'NUMBER_OUTSIDE_VALID_RANGE',
            `${field.label}: value outside of valid range on numeric field: ${describeValue(raw)}`,
            [field.name],
          )
        }
        return rounded
      }
      case 'boolean': {
        if (typeof raw === 'boolean') return raw
        const text = describeValue(raw).trim().toLowerCase()
        if (text === 'true' || text === '1') return true
        if (text === 'false' || text === '0' || text === '') return false
        return typeError()
      }
      case 'datetime': {
        if (typeof raw !== 'string') return typeError()
        if (raw.trim() === '') return null
        const date = parseDateTime(raw)
        return date ? formatDateTime(date) : typeError()
      }
      case 'date': {
        if (typeof raw !== 'string') return typeError()
        const date = parseDateTime(raw)
        return date ? date.toISOString().slice(0, 10) : typeError()
      }
      case 'reference': {
        if (typeof raw !== 'string') return typeError()
        if (raw === '') return null
        const id = normalizeId(raw)
        if (!id)
          fail('MALFORMED_ID', `${field.label} ID: id value of incorrect type: ${raw}`, [
            field.name,
          ])
        const target = this.schema.objects.get(field.referenceTo!)!
        if (!id!.startsWith(target.spec.keyPrefix)) {
          fail(
            'FIELD_INTEGRITY_EXCEPTION',
            `${field.label} ID: id value of incorrect type: ${raw}`,
            [field.name],
          )
        }
        if (!this.store.get(target.name, id!)) {
          fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [field.name])
        }
        return id!
      }
      case 'id':
      case 'autonumber':
        return describeValue(raw)
    }
  }

  /** A lookup set through the parent's external id: `Account__r: {In_Store_Customer_Id__c: 'C1'}`. */
  private resolveRelationship(reference: FieldSpec, raw: unknown): string | null {
    if (raw === null) return null
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw jsonParserError(
        `Cannot deserialize instance of ${reference.referenceTo} from ${typeof raw === 'string' ? 'VALUE_STRING' : 'VALUE_NUMBER_INT'} value ${describeValue(raw)} or request may be missing a required field`,
      )
    }
    const parent = this.schema.objects.get(reference.referenceTo!)!
    const entries = Object.entries(raw as Record<string, unknown>).filter(
      ([k]) => k !== 'attributes',
    )
    if (entries.length !== 1) {
      fail(
        'INVALID_FIELD',
        `The ${reference.relationshipName} relationship must be set through exactly one external ID field`,
        [reference.name],
      )
    }
    const [key, value] = entries[0]!
    const keyField = parent.byLowerName.get(key.toLowerCase())
    if (!keyField || !(keyField.externalId || keyField.name === 'Id')) {
      fail(
        'INVALID_FIELD',
        `Field name provided, ${key} is not an External ID or indexed field for ${parent.name}`,
        [reference.name],
      )
    }
    const text = value === null || value === undefined ? '' : describeValue(value)
    const ids =
      keyField!.name === 'Id'
        ? this.store.get(parent.name, normalizeId(text) ?? '')
          ? [normalizeId(text)!]
          : []
        : this.store.findBy(parent, keyField!, text)
    if (ids.length === 0) {
      fail(
        'INVALID_FIELD',
        `Foreign key external ID: ${text} not found for field ${keyField!.name} in entity ${parent.name}`,
        [reference.name],
      )
    }
    if (ids.length > 1) {
      fail(
        'INVALID_FIELD',
        `More than 1 record found for External ID field ${keyField!.name} in entity ${parent.name}: ${text}`,
        [reference.name],
      )
    }
    return ids[0]!
  }

  /**
   * Maps an input record's keys to fields. An unknown field fails the whole request (REST
   * deserializes the body before it saves anything); a read-only one fails only this record.
   */
  private readValues(
    object: ObjectSchema,
    input: Record<string, unknown>,
    source: Source,
    allowIdKey: boolean,
  ): Map<FieldSpec, FieldValue> {
    const values = new Map<FieldSpec, FieldValue>()
    const readOnly: string[] = []
    for (const [key, raw] of Object.entries(input)) {
      if (key === 'attributes' || raw === undefined) continue
      if (source === 'csv' && raw === '') continue
      const value = source === 'csv' && raw === '#N/A' ? null : raw
      const dot = key.indexOf('.')
      const relationship = object.relationships.get(
        (dot > 0 ? key.slice(0, dot) : key).toLowerCase(),
      )
      if (relationship && (dot > 0 || (typeof value === 'object' && value !== null))) {
        const parentValue = dot > 0 ? { [key.slice(dot + 1)]: value } : value
        values.set(relationship, this.resolveRelationship(relationship, parentValue))
        continue
      }
      const field = object.byLowerName.get(key.toLowerCase())
      if (!field) {
        throw new ApiError(
          400,
          'INVALID_FIELD',
          `No such column '${key}' on sobject of type ${object.name}`,
        )
      }
      if (field.name === 'Id' && allowIdKey) continue
      if (!isCreateable(field)) {
        readOnly.push(field.name)
        continue
      }
      values.set(field, this.coerce(field, value, source))
    }
    if (readOnly.length > 0) {
      fail(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        readOnly,
      )
    }
    return values
  }

  /** Required fields, injected validation rules, unique values: the checks at save time. */
  private checkSave(object: ObjectSchema, record: SfRecord): void {
    const missing = [...object.fields.values()]
      .filter((f) => f.required && (record[f.name] === null || record[f.name] === undefined))
      .map((f) => f.name)
    if (missing.length > 0) {
      fail(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.join(', ')}]`,
        missing,
      )
    }
    for (const rule of this.hooks.rules()) {
      if (rule.object.toLowerCase() !== object.name.toLowerCase()) continue
      const field = object.byLowerName.get(rule.field.toLowerCase())
      const value = field ? record[field.name] : undefined
      if (value === undefined || value === null) continue
      if (new RegExp(rule.pattern).test(String(value))) {
        fail(
          'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          rule.message,
          rule.errorField ? [rule.errorField] : [],
        )
      }
    }
    for (const field of object.fields.values()) {
      const value = record[field.name]
      if (!field.unique || typeof value !== 'string') continue
      const other = this.store.findBy(object, field, value).find((id) => id !== record.Id)
      if (other) {
        fail(
          'DUPLICATE_VALUE',
          `duplicate value found: ${field.name} duplicates value on record with id: ${other.slice(0, 15)}`,
          [],
        )
      }
    }
  }

  private guard(run: () => SaveOutcome, id?: string): SaveOutcome {
    try {
      return run()
    } catch (error) {
      if (error instanceof RecordFailure) {
        return { ok: false, ...(id ? { id } : {}), errors: [error.error] }
      }
      throw error
    }
  }

  private lockCheck(id?: string): void {
    if (this.hooks.lockFails()) {
      fail(
        'UNABLE_TO_LOCK_ROW',
        id
          ? `unable to obtain exclusive access to this record or 1 records: ${id}`
          : 'unable to obtain exclusive access to this record',
      )
    }
  }

  create(
    tx: UnitOfWork,
    object: ObjectSchema,
    input: Record<string, unknown>,
    source: Source,
  ): SaveOutcome {
    return this.guard(() => {
      const values = this.readValues(object, input, source, false)
      this.lockCheck()
      const now = formatDateTime(new Date())
      const record: SfRecord = { Id: '' }
      for (const field of object.fields.values()) {
        record[field.name] = field.type === 'boolean' ? false : null
      }
      for (const [field, value] of values) record[field.name] = value
      record.CreatedDate = now
      record.LastModifiedDate = now
      record.SystemModstamp = now
      this.checkSave(object, record)
      record.Id = this.store.newId(object)
      for (const field of object.fields.values()) {
        if (field.type === 'autonumber') record[field.name] = this.autoNumber(object, field)
      }
      tx.write(object.name, record)
      return { ok: true, id: record.Id, created: true }
    })
  }

  private autoNumber(object: ObjectSchema, field: FieldSpec): string {
    const n = this.store.next(`auto:${object.name}.${field.name}`)
    const format = field.displayFormat ?? '{0}'
    return format.replace(/\{(0+)\}/, (_m, zeros: string) => String(n).padStart(zeros.length, '0'))
  }

  update(
    tx: UnitOfWork,
    object: ObjectSchema,
    id: string,
    input: Record<string, unknown>,
    source: Source,
  ): SaveOutcome {
    return this.guard(() => {
      const full = normalizeId(id)
      if (!full || !full.startsWith(object.spec.keyPrefix)) {
        fail('MALFORMED_ID', `${object.spec.label} ID: id value of incorrect type: ${id}`, ['Id'])
      }
      const existing = this.store.get(object.name, full!)
      if (!existing) fail('ENTITY_IS_DELETED', 'entity is deleted')
      const values = this.readValues(object, input, source, true)
      this.lockCheck(full!)
      const record: SfRecord = { ...existing! }
      for (const [field, value] of values) record[field.name] = value
      this.checkSave(object, record)
      const now = formatDateTime(new Date())
      record.LastModifiedDate = now
      record.SystemModstamp = now
      tx.write(object.name, record)
      return { ok: true, id: full!, created: false }
    }, id)
  }

  /**
   * Upsert on an external id: no match creates, one match updates, several fail. The external id
   * value comes from the URL (single record) or from the record itself (collections, Bulk).
   */
  upsert(
    tx: UnitOfWork,
    object: ObjectSchema,
    extField: FieldSpec,
    extValue: string,
    input: Record<string, unknown>,
    source: Source,
  ): SaveOutcome {
    if (extValue === '') {
      return {
        ok: false,
        errors: [
          { statusCode: 'MISSING_ARGUMENT', message: `${extField.name} not specified`, fields: [] },
        ],
      }
    }
    const matches =
      extField.name === 'Id'
        ? this.store.get(object.name, normalizeId(extValue) ?? '')
          ? [normalizeId(extValue)!]
          : []
        : this.store.findBy(object, extField, extValue)
    if (matches.length > 1) {
      return {
        ok: false,
        errors: [
          {
            statusCode: 'DUPLICATE_EXTERNAL_ID',
            message: `${extField.label}: more than one record found for external id field: [${matches.join(', ')}]`,
            fields: [],
          },
        ],
        multiple: matches,
      }
    }
    const body: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(input)) {
      if (key.toLowerCase() !== extField.name.toLowerCase()) body[key] = value
    }
    if (matches.length === 1) return this.update(tx, object, matches[0]!, body, source)
    if (extField.name === 'Id') {
      return {
        ok: false,
        errors: [
          {
            statusCode: 'NOT_FOUND',
            message: 'Provided external ID field does not exist or is not accessible: Id',
            fields: [],
          },
        ],
      }
    }
    return this.create(tx, object, { ...body, [extField.name]: extValue }, source)
  }

  remove(tx: UnitOfWork, object: ObjectSchema, id: string): SaveOutcome {
    return this.guard(() => {
      const full = normalizeId(id)
      if (!full || !this.store.get(object.name, full)) {
        fail('ENTITY_IS_DELETED', 'entity is deleted')
      }
      this.lockCheck(full!)
      tx.remove(object.name, full!)
      return { ok: true, id: full!, created: false }
    }, id)
  }
}
