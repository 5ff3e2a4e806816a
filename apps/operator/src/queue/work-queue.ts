/**
 * A keyed work queue in the manner of client-go's workqueue:
 * - a key is processed by at most one worker at a time;
 * - adding a key that is already waiting is a no-op (duplicates collapse);
 * - adding a key that is being processed marks it dirty: it runs once more after the current run;
 * - failures are retried with per-key exponential backoff, unless `retryable` says the error is
 *   terminal (controller-runtime's TerminalError: the key waits for its next event); success resets
 *   the key's backoff;
 * - `shutDown()` stops taking new work and resolves once in-flight handlers finish.
 */
export interface WorkQueueOptions {
  concurrency: number;
  /** First retry delay; doubles per consecutive failure up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Whether a failure is worth retrying (default: every failure is). */
  retryable?: (err: unknown) => boolean;
}

export type Handler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: Array<() => void> = [];
  private running = 0;
  private stopped = false;

  constructor(
    private readonly handler: Handler,
    private readonly options: WorkQueueOptions,
    private readonly onError: (key: string, err: unknown, attempt: number, retrying: boolean) => void = () =>
      undefined,
  ) {}

  /** Keys waiting (not counting the ones being processed). */
  get depth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after a delay; a later `add` of the same key runs it sooner. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Forgets a key's failure history (e.g. when its object was deleted). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  backoffFor(attempt: number): number {
    const base = this.options.baseBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 300_000;
    return Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting work, cancels pending retries and waits for in-flight handlers. */
  async shutDown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await this.whenIdle();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.process(key);
    }
    if (this.running === 0 && this.queue.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async process(key: string): Promise<void> {
    let retryIn: number | undefined;
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      const retrying = this.options.retryable?.(err) ?? true;
      if (retrying) this.failures.set(key, attempt);
      else this.failures.delete(key);
      this.onError(key, err, attempt, retrying);
      if (retrying) retryIn = this.backoffFor(attempt);
    } finally {
      this.processing.delete(key);
      this.running--;
    }
    if (this.dirty.delete(key)) this.add(key);
    else if (retryIn !== undefined) this.addAfter(key, retryIn);
    this.pump();
  }
}
