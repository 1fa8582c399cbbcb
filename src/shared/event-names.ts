/** The four event names the store-side integrator sends (EVENTS.md). */
export const EVENT_NAMES = [
  'customer.entered.store',
  'customer.shopping',
  'customer.checked.out',
  'customer.exited.store',
] as const

export type EventName = (typeof EVENT_NAMES)[number]

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value)
}
