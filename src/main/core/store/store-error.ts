/** An error of the store with a stable code, safe to show and to send across IPC or HTTP. */
export class StoreError extends Error {
  constructor(
    readonly code: 'store_from_future' | 'store_missing' | 'store_outdated' | 'store_unwritable',
    message: string,
  ) {
    super(message)
    this.name = 'StoreError'
  }
}
