import {
  type Capp,
  type Condition,
  CONDITION_READY,
  DEFAULT_UNKNOWN_IS,
  type HealthProbe,
  type HealthScope,
  type HealthScopeStatus,
  matchesLabelSelector,
  type MemberHealth,
  type MemberStatus,
  PROBE_DEFAULTS,
  sameJson,
  type ScopeHealth,
} from '@capp/capp-model';

/**
 * The HealthScope's decisions, as pure functions (DESIGN §10): who the members are, what each one's
 * health is, what the scope's status and Events become. The controller does the I/O around them.
 */

/** A probe's outcome. `status` is the HTTP status code, or `Timeout`, `ConnectionRefused`, `Error`. */
export interface ProbeResult {
  ok: boolean;
  status: string;
  latencyMs: number;
  message: string;
}

/** What the controller remembers of a member's probes (per scope: thresholds are per scope). */
export interface ProbeRecord {
  url: string;
  last: ProbeResult;
  /** Consecutive failures up to and including `last`. */
  failures: number;
  /** The last success, if any since the member last became probeable. */
  lastSuccess?: ProbeResult;
  at: number;
}

export interface Member {
  name: string;
  /** Undefined when a name in cappRefs has no Capp. */
  capp?: Capp;
}

/** The probe with its defaults. */
export type EffectiveProbe = Required<Omit<HealthProbe, 'port'>> & { port?: number };

export function effectiveProbe(probe: HealthProbe | undefined): EffectiveProbe | undefined {
  if (!probe) return undefined;
  return {
    method: probe.method ?? PROBE_DEFAULTS.method,
    path: probe.path ?? PROBE_DEFAULTS.path,
    timeoutSeconds: probe.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    periodSeconds: probe.periodSeconds ?? PROBE_DEFAULTS.periodSeconds,
    successStatus: probe.successStatus ?? [...PROBE_DEFAULTS.successStatus],
    failureThreshold: probe.failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
    ...(probe.port !== undefined ? { port: probe.port } : {}),
  };
}

/**
 * The scope's members among the Capps of its namespace: cappRefs ∪ selector matches, sorted by name.
 * A Capp being deleted leaves a selector's members at once (it is going on purpose); one named in
 * cappRefs stays, Unhealthy, since the scope says it needs it.
 */
export function membersOf(scope: HealthScope, capps: readonly Capp[]): Member[] {
  const byName = new Map(capps.map((c) => [c.metadata.name, c]));
  const names = new Set(scope.spec.cappRefs ?? []);
  const selector = scope.spec.selector;
  if (selector) {
    for (const c of capps)
      if (!c.metadata.deletionTimestamp && matchesLabelSelector(selector, c.metadata.labels))
        names.add(c.metadata.name);
  }
  return [...names].sort().map((name) => ({ name, capp: byName.get(name) }));
}

/** The URL to probe: the Capp's own `status.url`, with the probe's path and port. Never another host. */
export function probeUrl(capp: Capp, probe: EffectiveProbe): string | undefined {
  const base = capp.status?.url;
  if (!base) return undefined;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (probe.port !== undefined) url.port = String(probe.port);
  // Appended to the origin, never resolved against it: a path such as `//other.host/` stays a path.
  const target = new URL(`${url.origin}${probe.path.startsWith('/') ? '' : '/'}${probe.path}`);
  return target.host === url.host ? target.toString() : undefined;
}

/** Whether an HTTP status counts as success under `successStatus` ("2xx", "204", …). */
export function isSuccessStatus(code: number, successStatus: readonly string[]): boolean {
  const text = String(code);
  return successStatus.some((s) => (s.endsWith('xx') ? text[0] === s[0] && text.length === 3 : s === text));
}

/** Whether a member must be probed: Ready, enabled, not being deleted, and with a URL. */
export function needsProbe(capp: Capp | undefined): boolean {
  if (!capp || capp.metadata.deletionTimestamp || capp.spec.state === 'disabled') return false;
  const ready = capp.status?.conditions?.find((c) => c.type === CONDITION_READY);
  return ready?.status === 'True' && Boolean(capp.status?.url);
}

export interface Verdict {
  health: MemberHealth;
  reason: string;
  message: string;
  probe?: { status: string; latencyMs: number };
}

const PROBE_REASONS: Record<string, string> = {
  Timeout: 'ProbeTimeout',
  ConnectionRefused: 'ProbeConnectionRefused',
  Error: 'ProbeError',
};

/** One member's health: its Ready condition first, then (with a probe) the probe of its own URL. */
export function judgeMember(
  member: Member,
  probe: EffectiveProbe | undefined,
  record: ProbeRecord | undefined,
): Verdict {
  const capp = member.capp;
  if (!capp)
    return { health: 'Unhealthy', reason: 'NotFound', message: `Capp ${member.name} does not exist` };
  if (capp.metadata.deletionTimestamp)
    return { health: 'Unhealthy', reason: 'Terminating', message: 'the Capp is being deleted' };
  if (capp.spec.state === 'disabled')
    return { health: 'Disabled', reason: 'Disabled', message: 'the Capp is disabled' };
  const ready = capp.status?.conditions?.find((c) => c.type === CONDITION_READY);
  if (!ready)
    return { health: 'Unknown', reason: 'NotReconciled', message: 'the Capp has no Ready condition yet' };
  if (ready.status === 'False')
    return { health: 'Unhealthy', reason: ready.reason || 'NotReady', message: ready.message };
  if (ready.status !== 'True')
    return { health: 'Unknown', reason: ready.reason || 'ReadyUnknown', message: ready.message };
  if (!probe) return { health: 'Healthy', reason: 'Ready', message: 'the Capp is ready' };
  if (!capp.status?.url)
    return { health: 'Unknown', reason: 'NoURL', message: 'the Capp reports no URL to probe' };
  if (!record) return { health: 'Unknown', reason: 'ProbePending', message: 'not probed yet' };
  const { last } = record;
  const decided = { status: last.status, latencyMs: last.latencyMs };
  if (last.ok) return { health: 'Healthy', reason: 'ProbeSucceeded', message: last.message, probe: decided };
  const reason = PROBE_REASONS[last.status] ?? 'ProbeFailed';
  if (record.failures >= probe.failureThreshold)
    return {
      health: 'Unhealthy',
      reason,
      // No count in the message: a member failing every period must not rewrite the status every period.
      message: last.message,
      probe: decided,
    };
  // Below the threshold: the last success still stands, if there was one.
  if (record.lastSuccess)
    return {
      health: 'Healthy',
      reason: 'ProbeSucceeded',
      message: record.lastSuccess.message,
      probe: { status: record.lastSuccess.status, latencyMs: record.lastSuccess.latencyMs },
    };
  return {
    health: 'Unknown',
    reason,
    message: `${last.message} (${record.failures} of ${probe.failureThreshold} failures)`,
    probe: decided,
  };
}

/** The scope's health from its members' (see DESIGN §10 and the README). */
export function aggregate(verdicts: readonly Verdict[], unknownIs: 'unhealthy' | 'ignored'): ScopeHealth {
  const has = (h: MemberHealth): boolean => verdicts.some((v) => v.health === h);
  if (has('Unhealthy')) return 'Unhealthy';
  if (has('Unknown')) {
    if (unknownIs === 'unhealthy') return 'Unhealthy';
    return has('Healthy') ? 'Healthy' : 'Unknown';
  }
  return has('Healthy') ? 'Healthy' : 'Empty';
}

const CONDITION_HEALTHY = 'Healthy';

function summary(health: ScopeHealth, members: readonly MemberStatus[]): { reason: string; message: string } {
  const bad = members.filter((m) => m.health === 'Unhealthy' || m.health === 'Unknown');
  switch (health) {
    case 'Healthy':
      return {
        reason: 'AllHealthy',
        message: `${members.filter((m) => m.health === 'Healthy').length} members healthy`,
      };
    case 'Empty':
      return {
        reason: 'NoMembers',
        message: 'the scope has no member to judge (none selected, or all disabled)',
      };
    default:
      return {
        reason: health === 'Unhealthy' ? 'MembersUnhealthy' : 'MembersUnknown',
        message: describeMembers(bad),
      };
  }
}

/** `api: ProbeFailed (HTTP 500); worker: NotFound` — at most ten members named. */
export function describeMembers(members: readonly MemberStatus[]): string {
  const named = members
    .slice(0, 10)
    .map((m) => `${m.name}: ${m.reason}${m.message ? ` (${m.message})` : ''}`);
  const more = members.length > 10 ? `; and ${members.length - 10} more` : '';
  return `${named.join('; ')}${more}`;
}

/**
 * The scope's status: `since` and `lastChanged` are kept while nothing changes, so equal inputs give
 * an equal status and the controller writes nothing.
 */
export function scopeStatus(
  scope: HealthScope,
  members: readonly Member[],
  verdicts: readonly Verdict[],
  now: string,
): HealthScopeStatus {
  const previous = scope.status;
  const before = new Map((previous?.capps ?? []).map((m) => [m.name, m]));
  const capps: MemberStatus[] = members.map((m, i) => {
    const v = verdicts[i];
    const old = before.get(m.name);
    const since = old && old.health === v.health ? old.since : now;
    // The probe shown is the one that decided the verdict; kept while the verdict stands.
    const probe =
      old && old.health === v.health && old.reason === v.reason ? (old.probe ?? v.probe) : v.probe;
    return {
      name: m.name,
      health: v.health,
      reason: v.reason,
      message: v.message,
      since,
      ...(probe ? { probe } : {}),
    };
  });
  const health = aggregate(verdicts, scope.spec.unknownIs ?? DEFAULT_UNKNOWN_IS);
  const count = (h: MemberHealth): number => capps.filter((m) => m.health === h).length;
  const lastChanged = previous?.health === health && previous.lastChanged ? previous.lastChanged : now;
  const { reason, message } = summary(health, capps);
  const status: Condition['status'] =
    health === 'Healthy' ? 'True' : health === 'Unhealthy' ? 'False' : 'Unknown';
  const oldCondition = previous?.conditions?.find((c) => c.type === CONDITION_HEALTHY);
  const condition: Condition = {
    type: CONDITION_HEALTHY,
    status,
    reason,
    message,
    lastTransitionTime:
      oldCondition && oldCondition.status === status ? oldCondition.lastTransitionTime : now,
  };
  return {
    ...(typeof scope.metadata.generation === 'number'
      ? { observedGeneration: scope.metadata.generation }
      : {}),
    health,
    total: capps.length,
    healthy: count('Healthy'),
    unhealthy: count('Unhealthy'),
    unknown: count('Unknown'),
    disabled: count('Disabled'),
    capps,
    lastChanged,
    conditions: [condition],
  };
}

export function scopeStatusEqual(
  a: HealthScopeStatus | undefined,
  b: HealthScopeStatus | undefined,
): boolean {
  return sameJson(a ?? {}, b ?? {});
}

export interface HealthEvent {
  type: 'Normal' | 'Warning';
  reason: 'BecameUnhealthy' | 'Recovered';
  message: string;
}

/** The Event a change of health deserves: `BecameUnhealthy` naming the members, `Recovered`. */
export function healthEvent(
  before: ScopeHealth | undefined,
  after: HealthScopeStatus,
): HealthEvent | undefined {
  if (after.health === before) return undefined;
  if (after.health === 'Unhealthy') {
    const bad = (after.capps ?? []).filter((m) => m.health === 'Unhealthy' || m.health === 'Unknown');
    return { type: 'Warning', reason: 'BecameUnhealthy', message: `unhealthy: ${describeMembers(bad)}` };
  }
  if (after.health === 'Healthy' && before === 'Unhealthy')
    return {
      type: 'Normal',
      reason: 'Recovered',
      message: `healthy again: ${after.healthy} members healthy`,
    };
  return undefined;
}
