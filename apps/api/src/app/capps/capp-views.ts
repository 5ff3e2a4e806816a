import { toResource } from './capp-content';
import type { RowRevision, StoredCapp } from './capps.repository';

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

  /** The cached JSON of this revision of the row, if any. */
  cached(row: RowRevision): string | undefined {
    const hit = this.entries.get(row.id);
    if (hit?.rev !== row.rev) return undefined;
    this.hits++;
    // Most recently used last: Map iteration order is insertion order.
    this.entries.delete(row.id);
    this.entries.set(row.id, hit);
    return hit.json;
  }

  json(row: StoredCapp): string {
    const hit = this.cached(row);
    if (hit !== undefined) return hit;
    this.misses++;
    const json = JSON.stringify(toResource(row.load()));
    if (this.capacity > 0) {
      this.entries.delete(row.id);
      this.entries.set(row.id, { rev: row.rev, json });
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    }
    return json;
  }

  /**
   * The JSON of each row of a page, in its order: from the cache where the revision is current, the
   * others read (`load`, one query for all of them). A row deleted between the two reads is left out.
   */
  async page(rows: RowRevision[], load: (ids: string[]) => Promise<StoredCapp[]>): Promise<string[]> {
    const items = rows.map((r) => this.cached(r));
    const missing = rows.filter((_, i) => items[i] === undefined);
    if (!missing.length) return items as string[];
    const loaded = new Map((await load(missing.map((r) => r.id))).map((r) => [r.id, r]));
    return rows.flatMap((r, i) => {
      const hit = items[i];
      if (hit !== undefined) return [hit];
      const row = loaded.get(r.id);
      return row ? [this.json(row)] : [];
    });
  }

  /** A CappList of these items (JSON texts), as JSON text. */
  static list(items: string[], next: string | undefined): string {
    const metadata = next === undefined ? '{}' : JSON.stringify({ continue: next });
    return `{"apiVersion":"rcs.dana.io/v1alpha1","kind":"CappList","metadata":${metadata},"items":[${items.join(',')}]}`;
  }

  get size(): number {
    return this.entries.size;
  }
}
