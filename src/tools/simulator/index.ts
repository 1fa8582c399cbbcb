/**
 * The simulated event stream: a sender that behaves like the store-side integrator (EVENTS.md).
 * Used by `footfall simulate`, by tests, and by the Salesforce emulator (customer ids).
 */
export { customerIds, makeCustomers, makeProducts, makeStores, storeId } from './catalog'
export type { Customer, Product, Store } from './catalog'
export { ELAPSED_FORMATS, ELAPSED_FORMS, formatElapsed } from './elapsed'
export type { ElapsedForm, ElapsedFormat } from './elapsed'
export { BAD_KINDS } from './faults'
export type { BadKind } from './faults'
export {
  MEAN_EVENTS_PER_VISIT,
  Timeline,
  generateDay,
  isOpen,
  maxEventsPerSecond,
  makeVisit,
  makeWorld,
} from './journeys'
export type { DayOptions, SimEvent, SimItem, TimelineOptions, World } from './journeys'
export { readManifest } from './manifest'
export type { DeliveryOutcome, DeliveryRecord, Manifest } from './manifest'
export { Plan, eventPayload } from './plan'
export type { Delivery, DeliveryKind, FaultOptions } from './plan'
export { formatProgress, progressLine } from './progress'
export type { ProgressSnapshot } from './progress'
export { Prng, derivePrng } from './prng'
export { SIMULATION_DEFAULTS, Simulation, runSimulation } from './simulation'
export type { SimulationHooks, SimulationOptions, SimulationSummary } from './simulation'
export { eventsUrl, httpTransport } from './transport'
export type { PostResult, Transport } from './transport'
