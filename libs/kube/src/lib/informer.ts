import type { AnyKubeObject, KubeObject, ResourceType } from '@capp/capp-model';

import { GoneError, NotFoundError } from './errors';
import { objectKey, resourcePath } from './resources';
import type { KubeRest, WatchEvent } from './rest';

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
  /** After each full list (the first and every relist) has been applied to the cache. */
  onRelist?(): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Cache only metadata (PartialObjectMetadata): for Secrets, whose data the operator must not hold. */
  metadataOnly?: boolean;
  /** Keep `metadata.managedFields` (dropped by default: often the largest part, rarely read). */
  keepManagedFields?: boolean;
  /**
   * Applied to every object the server sends before it is cached or handed to a handler (client-go's
   * SetTransform): to keep less of each object than even a metadata-only list gives.
   */
  transform?(obj: AnyKubeObject): AnyKubeObject;
  /**
   * Objects per page of a list (default 500, as client-go's reflector): a cold start over thousands of
   * objects never holds one response of all of them at once.
   */
  pageSize?: number;
  /** Delay before re-listing after a broken watch; doubles up to 30 s. */
  retryBaseMs?: number;
  onError?(err: unknown): void;
  /**
   * The kind may not be served (its CRD is not installed): a list answered 404 then counts as an
   * empty, synced cache instead of an error, and is tried again every `absentRetryMs` (default 30 s)
   * until the kind appears. `onAvailability` is told when the kind is found absent (at the first
   * list too) and when it appears or goes again — not at every try.
   */
  optional?: boolean;
  absentRetryMs?: number;
  onAvailability?(served: boolean): void;
}

interface ListResponse<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

/**
 * List + watch with a local cache (a client-go style informer). A watch that ends is resumed from the
 * last resourceVersion; one that expired (410 Gone) or failed triggers a fresh list, diffed against the
 * cache so handlers see the adds, updates and deletes they missed.
 */
export class Informer<T extends AnyKubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private loop?: Promise<void>;
  private served?: boolean;

  constructor(
    private readonly rest: Pick<KubeRest, 'request' | 'watch'>,
    readonly type: ResourceType,
    private readonly handlers: InformerHandlers<T>,
    private readonly options: InformerOptions = {},
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** False while an `optional` kind is not served (its cache is then empty); true once it was listed. */
  get isServed(): boolean {
    return this.served !== false;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  private get path(): string {
    return resourcePath(this.type, this.options.namespace);
  }

  /** A list and a watch negotiate different metadata-only types (a watch streams single objects). */
  private accept(op: 'list' | 'watch'): string | undefined {
    if (!this.options.metadataOnly) return undefined;
    const kind = op === 'list' ? 'PartialObjectMetadataList' : 'PartialObjectMetadata';
    return `application/json;as=${kind};g=meta.k8s.io;v=v1,application/json`;
  }

  private get selectors(): Record<string, string | undefined> {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist();
        failures = 0;
        const watchStarted = Date.now();
        await this.rest.watch<T>(
          this.path,
          {
            ...this.selectors,
            resourceVersion: this.resourceVersion,
            timeoutSeconds: 240 + Math.floor(Math.random() * 60),
          },
          (e) => this.apply(e),
          this.abort.signal,
          this.accept('watch'),
        );
        // A watch the server ends at once (rather than at its timeout) must not become a busy loop.
        if (Date.now() - watchStarted < 1000) await sleep(1000, this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        if (err instanceof GoneError) {
          this.resourceVersion = ''; // expired: list again, no delay needed
          continue;
        }
        if (this.options.optional && err instanceof NotFoundError && !this.resourceVersion) {
          this.absent();
          await sleep(this.options.absentRetryMs ?? 30_000, this.abort.signal);
          continue;
        }
        failures++;
        this.resourceVersion = '';
        this.options.onError?.(err);
        const delay = Math.min(30_000, (this.options.retryBaseMs ?? 500) * 2 ** (failures - 1));
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const seen = new Set<string>();
    let list: ListResponse<T>;
    let next: string | undefined;
    do {
      // Every page of a paginated list is read at the first page's resourceVersion (one snapshot).
      list = await this.rest.request<ListResponse<T>>('GET', this.path, {
        query: {
          ...this.selectors,
          limit: this.options.pageSize ?? 500,
          ...(next ? { continue: next } : {}),
        },
        accept: this.accept('list'),
      });
      this.setServed(true);
      for (const item of list.items ?? []) {
        const obj = this.transformed({ ...item, apiVersion: this.type.apiVersion, kind: this.type.kind });
        const key = objectKey(obj);
        seen.add(key);
        this.upsert(key, obj);
      }
      next = list.metadata.continue || undefined;
    } while (next);
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.handlers.onDelete?.(old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.handlers.onRelist?.();
    this.markSynced();
  }

  /** The kind is not served: whatever was cached is gone (its CRD was deleted), and the cache is synced. */
  private absent(): void {
    for (const [key, old] of [...this.cache]) {
      this.cache.delete(key);
      this.handlers.onDelete?.(old);
    }
    this.setServed(false);
    this.markSynced();
  }

  private setServed(served: boolean): void {
    if (this.served === served) return;
    const first = this.served === undefined;
    this.served = served;
    if (this.options.optional && (!first || !served)) this.options.onAvailability?.(served);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private transformed(obj: T): T {
    return this.options.transform ? (this.options.transform(obj) as T) : obj;
  }

  private apply(event: WatchEvent<T>): void {
    if (event.object.metadata?.resourceVersion) this.resourceVersion = event.object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const obj = this.transformed(event.object);
    const key = objectKey(obj);
    if (event.type === 'DELETED') {
      const old = this.cache.get(key);
      this.cache.delete(key);
      this.handlers.onDelete?.(old ?? obj);
      return;
    }
    this.upsert(key, obj);
  }

  private upsert(key: string, obj: T): void {
    const old = this.cache.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    // managedFields is often the largest part of an object and nothing here reads it.
    if (!this.options.keepManagedFields) delete obj.metadata['managedFields'];
    this.cache.set(key, obj);
    if (old) this.handlers.onUpdate?.(obj, old);
    else this.handlers.onAdd?.(obj);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
