/**
 * JSON with object keys sorted (and keys holding `undefined` left out, as JSON does): the same text
 * for values that mean the same whatever their key order. Array order counts. The one canonical form
 * of the repository: the operator's applied-hash, status comparison, the API's ETags and revisions.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Deep equality blind to key order (see {@link canonicalJson}). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
