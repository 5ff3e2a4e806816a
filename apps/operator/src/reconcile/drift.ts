import { createHash } from 'node:crypto';

import { canonicalJson } from '@capp/capp-model';

/** Annotation on every child: a hash of what the operator last applied, to tell drift from a new desire. */
export const ANNOTATION_APPLIED_HASH = 'rcs.dana.io/applied-hash';

/** Stable JSON (sorted keys) hash of an object. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/**
 * True when every field of `desired` is present in `live` with the same value (arrays: same length,
 * element by element). Fields the server or other controllers added to `live` are ignored.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]))
    );
  }
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(desired as Record<string, unknown>).every(
      ([k, v]) => v === undefined || isSubset(v, (live as Record<string, unknown>)[k]),
    );
  }
  return desired === live || (typeof desired === 'number' && String(desired) === live);
}
