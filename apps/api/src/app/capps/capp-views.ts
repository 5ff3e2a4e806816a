import { toResource } from './capp-content';
import type { StoredCapp } from './capps.repository';

/**
 * The JSON of each Capp as the API returns it, kept per row revision: a read whose row has not been
 * written since (no spec, status or sync change, on any replica — the revision is the database's)
 * sends the same bytes again without parsing the row or serializing the resource. Least recently
 * used entries go first beyond `capacity`; 0 keeps nothing.
 */
export class CappViews {
  private readonly entries = new Map<string, { rev: string; json: string }>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity: number) {}

  json(row: StoredCapp): string {
    const hit = this.entries.get(row.id);
    if (hit?.rev === row.rev) {
      this.hits++;
      // Most recently used last: Map iteration order is insertion order.
      this.entries.delete(row.id);
      this.entries.set(row.id, hit);
      return hit.json;
    }
    this.misses++;
    const json = JSON.stringify(toResource(row.load()));
    if (this.capacity > 0) {
      this.entries.delete(row.id);
      this.entries.set(row.id, { rev: row.rev, json });
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
    return json;
  }

  /** A CappList of these rows, as JSON text. */
  list(rows: StoredCapp[], next: string | undefined): string {
    const metadata = next === undefined ? '{}' : JSON.stringify({ continue: next });
    return `{"apiVersion":"rcs.dana.io/v1alpha1","kind":"CappList","metadata":${metadata},"items":[${rows
      .map((r) => this.json(r))
      .join(',')}]}`;
  }

  get size(): number {
    return this.entries.size;
  }
}
