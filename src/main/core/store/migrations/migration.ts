/**
 * One schema step. Append-only: a landed migration is never edited; a change is a new version.
 * `up` is SQL run inside the migration's transaction.
 */
export interface Migration {
  version: number
  name: string
  up: string
}
