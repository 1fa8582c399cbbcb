/**
 * What the console gets from processing: transport shapes, kept apart from the table rows
 * (times as ISO strings, money as amounts, TIS in minutes). Plain data, no Node types, so they
 * can move to src/shared when the API contract lands.
 */
import type { AlertScope, AlertState } from './alert-store'
import type { Severity, VisitStatus } from './rules'

export interface VisitLineDto {
  eventId: string
  productId: string
  name: string | null
  brand: string | null
  quantity: number
  unitPrice: number
  currency: string
  discount: number
  amount: number
  counted: boolean
}

export interface VisitDto {
  visitKey: string
  customerId: string
  storeId: string | null
  status: VisitStatus
  entryInferred: boolean
  enteredAt: string | null
  startedAt: string
  exitedAt: string | null
  lastEventAt: string
  timeInStoreMinutes: number | null
  spend: number
  checkouts: number
  brands: string[]
  items: VisitLineDto[]
  version: number
}

export interface RollupDto {
  customerId: string
  visitCount: number
  visits30d: number
  firstVisitAt: string | null
  lastVisitAt: string | null
  lastStoreId: string | null
  avgTimeInStoreMinutes: number | null
  totalSpend: number
  purchaseVisits: number
  topBrands: string[]
  version: number
}

export type JourneyEventState = 'processed' | 'failed' | 'pending'

export interface JourneyEventDto {
  seq: number
  id: string
  name: string
  timestamp: string
  storeId: string | null
  state: JourneyEventState
}

export interface JourneyDto {
  customerId: string
  rollup: RollupDto | null
  /** Visits in the order they happened, each with its events in order. */
  visits: (VisitDto & { events: JourneyEventDto[] })[]
  /** Events in no visit: failed ones, and ones stored after the last processing run. */
  outside: JourneyEventDto[]
  processedThroughSeq: number
}

export interface AlertDto {
  key: string
  kind: string
  severity: Severity
  scope: AlertScope
  state: AlertState
  customerId: string | null
  visitKey: string | null
  eventId: string | null
  storeId: string | null
  quarantineSeq: number | null
  message: string
  firstSeen: string
  lastSeen: string
  count: number
  stateChangedAt: string
}

export interface AlertFilter {
  kind?: string
  state?: AlertState | AlertState[]
  severity?: Severity
  customerId?: string
  limit?: number
  offset?: number
}

export interface StoreLiveDto {
  storeId: string | null
  customersInStore: number
  entriesLastHour: number
  exitsLastHour: number
  eventsLastHour: number
  /** Mean over the last hour of the stream. */
  eventsPerMinute: number
  /** Events per minute for the last 60 minutes, oldest first. */
  perMinute: number[]
}

export interface LiveStoresDto {
  /** The "now" of these numbers: the processed stream's high-water mark (see docs). */
  asOf: string | null
  stores: StoreLiveDto[]
}

export interface CustomerHitDto {
  customerId: string
  visitCount: number
  lastVisitAt: string | null
  lastStoreId: string | null
  totalSpend: number
}
