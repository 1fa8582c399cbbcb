import { z } from 'zod'
import { EVENT_NAMES } from './event-names'
import { parseTimestamp } from './event-time'

/**
 * The runtime schema of one inbound event (EVENTS.md). Unknown keys are allowed and kept in the
 * raw payload; `time_elapsed` is never a reason to reject (processing derives TIS instead).
 */

const Promotion = z.looseObject({
  code: z.string().optional(),
  discount: z.number().nonnegative(),
})

export const CheckoutItemSchema = z.looseObject({
  product_id: z.string().min(1),
  name: z.string().optional(),
  brand: z.string().nullable().optional(),
  quantity: z.number().positive(),
  unit_price: z.number().nonnegative(),
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'is not a 3-letter currency code'),
  promotions: z.array(Promotion).optional(),
})

export const InboundEventSchema = z
  .looseObject({
    id: z.string().min(1).max(200),
    name: z.enum(EVENT_NAMES),
    timestamp: z.string().refine((t) => parseTimestamp(t) !== null, 'is not ISO-8601'),
    customer_id: z.string().min(1).max(200),
    store_id: z.string().min(1).max(64).nullable().optional(),
    items: z.array(CheckoutItemSchema).optional(),
    time_elapsed: z.unknown().optional(),
  })
  .superRefine((event, ctx) => {
    if (event.name === 'customer.checked.out' && event.items === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['items'],
        message: 'customer.checked.out needs an array of items',
      })
    }
  })

export type InboundEvent = z.infer<typeof InboundEventSchema>
export type CheckoutItem = z.infer<typeof CheckoutItemSchema>

// ---- reasons a person can act on -------------------------------------------------------------

function fieldName(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`
  }
  return `\`${out || '(body)'}\``
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

/** Shows a value the way a person would type it, short enough for a one-line reason. */
export function showValue(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value))
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = fieldName(issue.path)
  const value = valueAt(input, issue.path)
  if (value === undefined) {
    return issue.code === 'custom' ? `${field} is missing: ${issue.message}` : `${field} is missing`
  }
  switch (issue.code) {
    case 'invalid_type':
      return `${field} must be ${issue.expected === 'array' ? 'an' : 'a'} ${issue.expected}, got ${typeOf(value)} ${showValue(value)}`
    case 'invalid_value':
      return `${field} is not one of ${issue.values.map((v) => String(v)).join(', ')}: ${showValue(value)}`
    case 'too_small':
      return typeof value === 'string'
        ? `${field} is empty`
        : `${field} must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}, got ${showValue(value)}`
    case 'too_big':
      return typeof value === 'string'
        ? `${field} is longer than ${String(issue.maximum)} characters`
        : `${field} must be at most ${String(issue.maximum)}, got ${showValue(value)}`
    default:
      return `${field} ${issue.message}: ${showValue(value)}`
  }
}

export type EventCheck =
  | { ok: true; event: InboundEvent }
  | { ok: false; reason: string; eventId: string | null; customerId: string | null }

const MAX_REASONS = 5

/** Validates a parsed JSON value as an inbound event; on failure, says what to fix. */
export function checkEvent(value: unknown): EventCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      reason: `body is JSON but not an object: got ${typeOf(value)}`,
      eventId: null,
      customerId: null,
    }
  }
  const result = InboundEventSchema.safeParse(value)
  if (result.success) return { ok: true, event: result.data }
  const reasons = result.error.issues.map((issue) => describeIssue(issue, value))
  const more = reasons.length > MAX_REASONS ? `; and ${reasons.length - MAX_REASONS} more` : ''
  const record = value as Record<string, unknown>
  return {
    ok: false,
    reason: reasons.slice(0, MAX_REASONS).join('; ') + more,
    eventId: typeof record.id === 'string' ? record.id : null,
    customerId: typeof record.customer_id === 'string' ? record.customer_id : null,
  }
}
