/**
 * SOQL text for the sync's bulk matching. jsforce sends queries as GET /query?q=…, and
 * Salesforce refuses URIs much past 16 KB, so IN lists are cut by their URL-encoded length.
 */
export const MAX_ENCODED_QUERY = 12_000

/** A SOQL string literal: backslash and quote escaped (SOQL's own escapes). */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
}

/**
 * `prefix IN (…)` queries covering every value once, each within `maxEncoded` characters once
 * URL-encoded. A value too long to share a query still gets one of its own.
 */
export function inQueries(
  prefix: string,
  values: readonly string[],
  suffix = '',
  maxEncoded = MAX_ENCODED_QUERY,
): string[] {
  const fixed = encodeURIComponent(`${prefix} IN () ${suffix}`).length
  const queries: string[] = []
  let batch: string[] = []
  let size = fixed
  const flush = (): void => {
    if (batch.length > 0)
      queries.push(`${prefix} IN (${batch.join(',')})${suffix ? ` ${suffix}` : ''}`)
    batch = []
    size = fixed
  }
  for (const value of values) {
    const literal = soqlString(value)
    const cost = encodeURIComponent(literal).length + 3 // the comma, encoded
    if (batch.length > 0 && size + cost > maxEncoded) flush()
    batch.push(literal)
    size += cost
  }
  flush()
  return queries
}
