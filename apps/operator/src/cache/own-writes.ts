import type { AnyKubeObject } from '@capp/capp-model';

/** How many of our writes to one object may wait for their echo (older ones are forgotten). */
const MAX_PENDING_PER_OBJECT = 4;
/** Stands for "not in the cache yet" among the versions the cache may hold before an echo. */
const ABSENT = '';

/**
 * The operator's own writes, remembered until the watch delivers them back ("echoes"):
 *
 * - an echo carries nothing that the reconcile which made the write did not already know, so it needs
 *   no reconcile of its own (without this, every new Capp is reconciled once more for the echoes of
 *   its finalizer and children);
 * - until the echo arrives, the informer's cache is older than the object the API server returned to
 *   us: `latest` answers with the returned object, so a reconcile in between neither applies the same
 *   child again nor writes the same status twice.
 *
 * Objects are identified by the caller (`id`); resourceVersions are only compared for equality.
 */
export class OwnWrites<T extends AnyKubeObject = AnyKubeObject> {
  /** id → resourceVersions our writes produced whose watch event has not arrived yet (oldest first). */
  private readonly pending = new Map<string, string[]>();
  /** id → the object our last write returned, and the resourceVersions the cache may hold meanwhile. */
  private readonly newest = new Map<string, { object: T; stale: Set<string> }>();

  /**
   * Records `written` (as the API server returned it) while the cache still holds `cachedRv`.
   * Nothing is recorded when the echo already arrived (the cache holds the written version).
   */
  wrote(id: string, written: T, cachedRv: string | undefined): void {
    const rv = written.metadata.resourceVersion;
    if (!rv || rv === cachedRv) return;
    // The watch was faster than the write's response: the cache already holds a later version
    // (someone else's change on top of ours, e.g. a controller's status), whose event has come.
    if (cachedRv !== undefined && newer(cachedRv, rv)) return;
    const pending = this.pending.get(id) ?? [];
    pending.push(rv);
    if (pending.length > MAX_PENDING_PER_OBJECT) pending.shift();
    this.pending.set(id, pending);

    const previous = this.newest.get(id);
    const stale = new Set(
      previous ? [...previous.stale, previous.object.metadata.resourceVersion ?? ''] : [],
    );
    stale.add(cachedRv ?? ABSENT);
    this.newest.set(id, { object: written, stale });
  }

  /**
   * To be called for every watch event of a tracked kind: true when the event is the echo of one of
   * our writes (which is then forgotten).
   */
  isEcho(id: string, obj: AnyKubeObject): boolean {
    const rv = obj.metadata.resourceVersion;
    const newest = this.newest.get(id);
    // The cache now holds the version we wrote last, or one we did not write: either way it is current.
    if (newest && !(rv !== undefined && newest.stale.has(rv))) this.newest.delete(id);
    const pending = this.pending.get(id);
    if (!pending || rv === undefined) return false;
    const at = pending.indexOf(rv);
    if (at < 0) return false;
    pending.splice(0, at + 1); // events arrive in order: older writes' echoes will not come any more
    if (pending.length === 0) this.pending.delete(id);
    return true;
  }

  /** The object was deleted: nothing of ours is pending for it any more. */
  forget(id: string): void {
    this.pending.delete(id);
    this.newest.delete(id);
  }

  /** The newer of the cached object and the one our last write returned. */
  latest(id: string, cached: T | undefined): T | undefined {
    const newest = this.newest.get(id);
    if (!newest) return cached;
    if (newest.stale.has(cached?.metadata.resourceVersion ?? ABSENT)) return newest.object;
    this.newest.delete(id);
    return cached;
  }

  /** Objects with a write still waiting for its echo (for tests and metrics). */
  get size(): number {
    return this.pending.size;
  }
}

/**
 * Whether resource version `a` is later than `b`: both decimal integers (etcd's revisions, which
 * KEP-5504 makes comparable); anything else is not known to be later.
 */
function newer(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length !== b.length ? a.length > b.length : a > b;
}
