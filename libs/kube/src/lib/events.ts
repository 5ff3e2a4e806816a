import { hostname } from 'node:os';

import { EVENT_TYPE, resourcePath } from './resources';
import type { KubeRest } from './rest';

/** A core/v1 Event's `type`. */
export type EventType = 'Normal' | 'Warning';

/** The object an Event is about. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string };
}

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent`, e.g. `capp-operator`. */
  component: string;
  /** `source.host` and `reportingInstance` (default: this machine's host name, i.e. the pod name). */
  host?: string;
  /** Identical events (same object, type, reason and message) within this window are dropped (default 60 s). */
  dedupeWindowMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export const MAX_MESSAGE_LENGTH = 1024;
/** The apiserver's limit on `reportingInstance`. */
const MAX_INSTANCE_LENGTH = 128;

/**
 * Records core/v1 Events (`kubectl describe` / `kubectl get events`) about our objects. Identical
 * events within a minute are sent once, so a failing reconcile retried in a loop does not flood
 * the API server.
 */
export class EventRecorder {
  private readonly host: string;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Dedupe key → when it may be sent again. */
  private readonly recent = new Map<string, number>();
  private nextSweep = 0;

  constructor(
    private readonly rest: Pick<KubeRest, 'request'>,
    private readonly options: EventRecorderOptions,
  ) {
    this.host = (options.host ?? hostname()).slice(0, MAX_INSTANCE_LENGTH);
    this.windowMs = options.dedupeWindowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Creates an Event in the object's namespace. Resolves when it was created or dropped as a
   * duplicate; rejects (never throws) when the API server refused it, for the caller to log.
   */
  async record(obj: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const { name, namespace, uid } = obj.metadata;
    const now = this.now();
    this.sweep(now);
    const key = [
      uid ?? `${obj.apiVersion}/${obj.kind}/${namespace ?? ''}/${name}`,
      type,
      reason,
      message,
    ].join('\0');
    const until = this.recent.get(key);
    if (until !== undefined && until > now) return;
    this.recent.set(key, now + this.windowMs);

    const timestamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid },
      reason,
      message: truncate(message, MAX_MESSAGE_LENGTH),
      type,
      source: { component: this.options.component, host: this.host },
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
      reportingComponent: this.options.component,
      reportingInstance: this.host,
    };
    try {
      await this.rest.request('POST', resourcePath(EVENT_TYPE, namespace ?? 'default'), { body: event });
    } catch (err) {
      // Not recorded: a later identical event must not be dropped as a duplicate of this one.
      if (this.recent.get(key) === now + this.windowMs) this.recent.delete(key);
      throw err;
    }
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.windowMs;
    for (const [key, until] of this.recent) if (until <= now) this.recent.delete(key);
  }
}

/** At most `max` characters (code points, never half a surrogate pair), marked with `...` when cut. */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 3).join('')}...`;
}
