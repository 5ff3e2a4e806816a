import { Condition, ConditionStatus } from '@capp/capp-model';

/** Reason of a happy condition derived from its dependents. */
export const REASON_READY = 'Ready';
/** Reason of a condition nothing has marked yet. */
export const REASON_INITIALIZING = 'Initializing';

/**
 * A small knative.dev/pkg-style condition set: one "happy" condition (`Ready`) derived from its
 * dependents. Ready is True when every dependent is True; otherwise it takes the status, reason and
 * message of the first False dependent (in declared order), else of the first Unknown one.
 */
export class ConditionSet {
  constructor(
    readonly happy: string,
    readonly dependents: readonly string[],
  ) {}

  /**
   * Starts a round of marking. `previous` are the conditions last written: a condition whose status,
   * reason and message are unchanged keeps its `lastTransitionTime`; any other gets `now`.
   */
  manage(previous: readonly Condition[] | undefined, now: string): ConditionManager {
    return new ConditionManager(this, previous ?? [], now);
  }
}

export class ConditionManager {
  private readonly current = new Map<string, Omit<Condition, 'lastTransitionTime'>>();
  private happyOverride = false;

  constructor(
    private readonly set: ConditionSet,
    private readonly previous: readonly Condition[],
    private readonly now: string,
  ) {
    for (const type of set.dependents) this.put(type, 'Unknown', REASON_INITIALIZING, '');
    this.derive();
  }

  markTrue(type: string, reason: string = REASON_READY, message = ''): this {
    return this.mark(type, 'True', reason, message);
  }

  markFalse(type: string, reason: string, message: string): this {
    return this.mark(type, 'False', reason, message);
  }

  markUnknown(type: string, reason: string, message: string): this {
    return this.mark(type, 'Unknown', reason, message);
  }

  /** The condition of `type` as it would be written now. */
  get(type: string): Condition | undefined {
    const c = this.current.get(type);
    return c && this.withTime(c);
  }

  isHappy(): boolean {
    return this.current.get(this.set.happy)?.status === 'True';
  }

  /** All conditions, happy first then dependents in declared order (a stable order to compare). */
  conditions(): Condition[] {
    return [this.set.happy, ...this.set.dependents].flatMap((type) => {
      const c = this.current.get(type);
      return c ? [this.withTime(c)] : [];
    });
  }

  /**
   * Marking a dependent re-derives the happy condition. Marking the happy condition itself sets it
   * explicitly (e.g. True/Disabled) until a dependent is marked again.
   */
  private mark(type: string, status: ConditionStatus, reason: string, message: string): this {
    if (type !== this.set.happy && !this.set.dependents.includes(type)) {
      throw new Error(
        `condition ${type} is not part of this set (${[this.set.happy, ...this.set.dependents].join(', ')})`,
      );
    }
    this.put(type, status, reason, message);
    if (type === this.set.happy) {
      this.happyOverride = true;
    } else {
      this.happyOverride = false;
      this.derive();
    }
    return this;
  }

  private put(type: string, status: ConditionStatus, reason: string, message: string): void {
    this.current.set(type, { type, status, reason, message });
  }

  private derive(): void {
    if (this.happyOverride) return;
    const deps = this.set.dependents.map((t) => this.current.get(t)).filter((c) => c !== undefined);
    const blocking = deps.find((c) => c.status === 'False') ?? deps.find((c) => c.status !== 'True');
    if (blocking) this.put(this.set.happy, blocking.status, blocking.reason, blocking.message);
    else this.put(this.set.happy, 'True', REASON_READY, '');
  }

  private withTime(c: Omit<Condition, 'lastTransitionTime'>): Condition {
    const before = this.previous.find((p) => p.type === c.type);
    const unchanged =
      before !== undefined &&
      before.status === c.status &&
      (before.reason ?? '') === c.reason &&
      (before.message ?? '') === c.message &&
      typeof before.lastTransitionTime === 'string';
    return { ...c, lastTransitionTime: unchanged ? before.lastTransitionTime : this.now };
  }
}
