import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'

/** The contract's sample events (../shared/contract/samples), as bytes and as objects. */
export const SAMPLES_DIR = join(import.meta.dirname, '../../../shared/contract/samples')
export const SAMPLE_FILES = [
  '01-entered.json',
  '02-shopping.json',
  '03-checked-out.json',
  '04-exited.json',
] as const

export function sampleBytes(file: (typeof SAMPLE_FILES)[number]): Buffer {
  return readFileSync(join(SAMPLES_DIR, file))
}

export function sampleEvent(file: (typeof SAMPLE_FILES)[number]): Record<string, unknown> {
  return JSON.parse(sampleBytes(file).toString('utf8')) as Record<string, unknown>
}

/** A sample event with a fresh id, for load that must not collide. */
export function freshEvent(
  file: (typeof SAMPLE_FILES)[number] = '01-entered.json',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...sampleEvent(file), id: randomUUID(), ...extra }
}
