import {
  Capp,
  CappStatus,
  Condition,
  CONDITION_KNATIVE_SERVICE_READY,
  CONDITION_LOGGING_READY,
  CONDITION_READY,
  CONDITION_ROUTE_READY,
  CONDITION_VOLUMES_READY,
  ConditionStatus,
  DEFAULT_STATE,
  ForeignStatus,
  KubeObject,
  LoggingStatus,
  RouteStatus,
  sameJson,
  VolumesStatus,
} from '@capp/capp-model';

import { ConditionManager, ConditionSet, REASON_READY } from './conditions';
import { isEnabled } from './render';
import {
  CERTIFICATE,
  childKey,
  ChildKind,
  CNAME_RECORD,
  DOMAIN_MAPPING,
  isKind,
  KNATIVE_SERVICE,
  LOGGING_FLOW,
  LOGGING_OUTPUT,
  NFS_PVC,
  SYSLOG_NG_FLOW,
  SYSLOG_NG_OUTPUT,
  toManagedResource,
} from './resources';
import { DesiredChild, ObservedChild } from './types';

export const REASON_DISABLED = 'Disabled';
export const REASON_PENDING = 'Pending';
export const REASON_APPLY_FAILED = 'ApplyFailed';
export const REASON_NOT_RENDERED = 'NotRendered';
export const REASON_RECONCILING = 'Reconciling';
export const REASON_NOT_CONFIGURED = 'NotConfigured';
export const REASON_NO_CUSTOM_HOSTNAME = 'NoCustomHostname';

/** The Capp's conditions: Ready derived from one condition per part. */
export const CAPP_CONDITIONS = new ConditionSet(CONDITION_READY, [
  CONDITION_KNATIVE_SERVICE_READY,
  CONDITION_ROUTE_READY,
  CONDITION_LOGGING_READY,
  CONDITION_VOLUMES_READY,
]);

export interface StatusInput {
  capp: Capp;
  /** What `renderChildren` returned for this Capp. */
  desired: readonly DesiredChild[];
  /** By `childKey`: each desired child as last seen (or the API server's rejection of its apply). */
  observed: ReadonlyMap<string, ObservedChild>;
  /** The status currently stored, for transition times and the state's last change. */
  previous?: CappStatus;
  /** RFC 3339 time of this computation. */
  now: string;
}

interface Health {
  status: ConditionStatus;
  reason: string;
  message: string;
}

interface ChildReport extends Health {
  kind: string;
  name: string;
}

type ResourceReport = NonNullable<RouteStatus['resources']>[number];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function statusConditions(obj: KubeObject): Array<Record<string, unknown>> {
  const conditions = obj.status?.['conditions'];
  return Array.isArray(conditions) ? conditions.filter(isRecord) : [];
}

function conditionOf(obj: KubeObject, type: string): Record<string, unknown> | undefined {
  return statusConditions(obj).find((c) => c['type'] === type);
}

/** Unknown while the child's controller has not yet seen its latest spec (a stale status says nothing about it). */
function stale(obj: KubeObject, condition?: Record<string, unknown>): Health | undefined {
  const generation = obj.metadata.generation;
  if (typeof generation !== 'number') return undefined;
  const seen = [obj.status?.['observedGeneration'], condition?.['observedGeneration']].filter(
    (g): g is number => typeof g === 'number',
  );
  if (!seen.some((g) => g < generation)) return undefined;
  return {
    status: 'Unknown',
    reason: REASON_RECONCILING,
    message: `waiting for its controller to observe generation ${generation}`,
  };
}

/** A child's health from one of its conditions (`Ready` for Knative and cert-manager objects). */
function fromCondition(obj: KubeObject, type: string): Health {
  const c = conditionOf(obj, type);
  const staleness = stale(obj, c);
  if (staleness) return staleness;
  const status = c?.['status'];
  const reason = str(c?.['reason']);
  const message = str(c?.['message']);
  if (status === 'True') return { status: 'True', reason: REASON_READY, message: '' };
  if (status === 'False')
    return { status: 'False', reason: reason ?? `Not${type}`, message: message ?? `${type} is False` };
  return {
    status: 'Unknown',
    reason: reason ?? REASON_PENDING,
    message: message ?? (c ? `${type} is Unknown` : `no ${type} condition reported yet`),
  };
}

/** Crossplane managed resources: Synced (the provider could act on it) and Ready (the record exists). */
function fromCrossplane(obj: KubeObject): Health {
  const synced = fromCondition(obj, 'Synced');
  const ready = fromCondition(obj, 'Ready');
  if (synced.status === 'False') return synced;
  if (ready.status !== 'True') return ready;
  return synced;
}

/** logging-operator Flow/Output (and their syslog-ng twins): active once in the running configuration, and no problems reported. */
function fromLogging(obj: KubeObject): Health {
  const problems = obj.status?.['problems'];
  const count = obj.status?.['problemsCount'];
  if (typeof count === 'number' && count > 0) {
    const list = Array.isArray(problems) ? problems.filter((p): p is string => typeof p === 'string') : [];
    return {
      status: 'False',
      reason: 'Problems',
      message: list.length > 0 ? list.join('; ') : `${count} problem(s) reported`,
    };
  }
  if (obj.status?.['active'] === true) return { status: 'True', reason: REASON_READY, message: '' };
  return { status: 'Unknown', reason: 'Inactive', message: 'not active in the logging configuration yet' };
}

/** NfsPvc: ready once the PVC nfspvc-operator made is Bound. */
function fromNfsPvc(obj: KubeObject): Health {
  const phase = str(obj.status?.['pvcPhase']);
  if (phase === 'Bound') return { status: 'True', reason: REASON_READY, message: '' };
  if (phase === 'Lost')
    return { status: 'False', reason: 'PvcLost', message: 'its PersistentVolumeClaim is Lost' };
  return {
    status: 'Unknown',
    reason: 'PvcPending',
    message: phase ? `its PersistentVolumeClaim is ${phase}` : 'no PersistentVolumeClaim phase reported yet',
  };
}

function healthOf(obj: KubeObject): Health {
  if (isKind(obj, CNAME_RECORD)) return fromCrossplane(obj);
  if ([LOGGING_OUTPUT, LOGGING_FLOW, SYSLOG_NG_OUTPUT, SYSLOG_NG_FLOW].some((k) => isKind(obj, k)))
    return fromLogging(obj);
  if (isKind(obj, NFS_PVC)) return fromNfsPvc(obj);
  return fromCondition(obj, 'Ready');
}

function report(child: DesiredChild, observed: ReadonlyMap<string, ObservedChild>): ChildReport {
  const seen = observed.get(childKey(child));
  const { kind } = child;
  const { name } = child.metadata;
  const health: Health = seen?.error
    ? {
        status: 'False',
        reason: seen.reason ?? REASON_APPLY_FAILED,
        message: seen.reason ? seen.error : `rejected by the API server: ${seen.error}`,
      }
    : seen?.object
      ? healthOf(seen.object)
      : { status: 'Unknown', reason: REASON_PENDING, message: 'does not exist yet' };
  return { kind, name, ...health, message: health.message && `${kind} ${name}: ${health.message}` };
}

/** The part's health: the first False child (with every False child's message), else the first not-True one. */
function aggregate(reports: readonly ChildReport[], happyMessage: string): Health {
  for (const status of ['False', 'Unknown'] as const) {
    const matching = reports.filter((r) => r.status === status);
    if (matching.length > 0) {
      return { status, reason: matching[0].reason, message: matching.map((r) => r.message).join('; ') };
    }
  }
  return { status: 'True', reason: REASON_READY, message: happyMessage };
}

function mark(manager: ConditionManager, type: string, health: Health): void {
  if (health.status === 'True') manager.markTrue(type, health.reason, health.message);
  else if (health.status === 'False') manager.markFalse(type, health.reason, health.message);
  else manager.markUnknown(type, health.reason, health.message);
}

const resources = (reports: readonly ChildReport[]): ResourceReport[] =>
  reports.map((r) => ({
    kind: r.kind,
    name: r.name,
    ready: r.status,
    ...(r.status === 'True' ? {} : { message: r.message }),
  }));

/** A part whose children the Capp requires but the render produced none of (it should not happen: say so). */
const notRendered = (what: string): Health => ({
  status: 'False',
  reason: REASON_NOT_RENDERED,
  message: `the Capp requires ${what} but none was rendered`,
});

const ofKinds = (desired: readonly DesiredChild[], ...kinds: ChildKind[]): DesiredChild[] =>
  desired.filter((c) => kinds.some((k) => isKind(c, k)));

/**
 * A child's status as its controller wrote it, copied whole: container-app-operator v0.3.5 embeds the
 * children's statuses so (`knativeObjectStatus`, `routeStatus.domainMappingObjectStatus`…), and tools
 * written for it read them. Undefined while there is none.
 */
function foreignStatus(obj: KubeObject | undefined): ForeignStatus | undefined {
  const s = obj?.status;
  return isRecord(s) && Object.keys(s).length > 0 ? structuredClone(s) : undefined;
}

/** v0.3.5's logging condition: LoggingIsReady, False (LoggingResourceInvalid) once a child reports problems. */
const CONDITION_LOGGING_IS_READY = 'LoggingIsReady';

function loggingIsReady(
  objects: readonly KubeObject[],
  previous: LoggingStatus | undefined,
  now: string,
): Condition {
  const problems = objects.some((o) => {
    const count = o.status?.['problemsCount'];
    return typeof count === 'number' && count !== 0;
  });
  const status: ConditionStatus = problems ? 'False' : 'True';
  const before = previous?.conditions?.find((c) => c.type === CONDITION_LOGGING_IS_READY);
  return {
    type: CONDITION_LOGGING_IS_READY,
    status,
    reason: problems ? 'LoggingResourceInvalid' : 'ready',
    message: '',
    lastTransitionTime:
      before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
  };
}

/** The status fields this function owns; any other field of `previous` (e.g. v0.3's `revisions`) is kept. */
const OWNED_FIELDS = new Set([
  'observedGeneration',
  'conditions',
  'url',
  'knativeObjectStatus',
  'routeStatus',
  'loggingStatus',
  'volumesStatus',
  'stateStatus',
  'managedResources',
]);

/**
 * The Capp's status from its desired children and what the cluster holds of them (DESIGN §2).
 * Deterministic: equal inputs give deep-equal results in a stable order, and no field is ever
 * `undefined`, so `statusEqual(computed, stored)` tells the operator whether a write is needed.
 */
export function computeStatus(input: StatusInput): CappStatus {
  const { capp, desired, observed, previous, now } = input;
  const spec = capp.spec;
  const manager = CAPP_CONDITIONS.manage(previous?.conditions, now);
  const reports = (children: readonly DesiredChild[]): ChildReport[] =>
    children.map((c) => report(c, observed));
  const live = (child: DesiredChild | undefined): KubeObject | undefined =>
    child && observed.get(childKey(child))?.object;

  // Knative Service
  const enabled = isEnabled(capp);
  const [ksvcChild] = ofKinds(desired, KNATIVE_SERVICE);
  const ksvcObject = enabled ? live(ksvcChild) : undefined;
  if (!enabled) {
    manager.markTrue(
      CONDITION_KNATIVE_SERVICE_READY,
      REASON_DISABLED,
      'the Knative Service is removed while the Capp is disabled',
    );
  } else if (!ksvcChild) {
    mark(manager, CONDITION_KNATIVE_SERVICE_READY, notRendered('a Knative Service'));
  } else {
    const [r] = reports([ksvcChild]);
    mark(manager, CONDITION_KNATIVE_SERVICE_READY, aggregate([r], `Service ${r.name} is ready`));
  }

  // Route: DomainMapping, Certificate, CNAMERecord
  const routeChildren = ofKinds(desired, CERTIFICATE, DOMAIN_MAPPING, CNAME_RECORD);
  const [domainMapping] = ofKinds(desired, DOMAIN_MAPPING);
  const fqdn = domainMapping?.metadata.name;
  const tls = spec.routeSpec?.tlsEnabled === true;
  let routeStatus: RouteStatus | undefined;
  if (!spec.routeSpec?.hostname) {
    manager.markTrue(CONDITION_ROUTE_READY, REASON_NO_CUSTOM_HOSTNAME, 'no custom hostname is set');
  } else if (!fqdn) {
    mark(manager, CONDITION_ROUTE_READY, notRendered('a DomainMapping'));
  } else {
    const routeReports = reports(routeChildren);
    mark(
      manager,
      CONDITION_ROUTE_READY,
      aggregate(routeReports, `${tls ? 'https' : 'http'}://${fqdn} is ready`),
    );
    const dmUrl = str(live(domainMapping)?.status?.['url']);
    const [certificate] = ofKinds(desired, CERTIFICATE);
    const [cnameRecord] = ofKinds(desired, CNAME_RECORD);
    const secretName = str(certificate?.spec?.['secretName']);
    const dmStatus = foreignStatus(live(domainMapping));
    const cnameStatus = foreignStatus(live(cnameRecord));
    const certStatus = tls ? foreignStatus(live(certificate)) : undefined;
    routeStatus = {
      hostname: fqdn,
      ...(dmUrl ? { domainMappingUrl: dmUrl } : {}),
      ...(tls && secretName ? { tlsSecretName: secretName } : {}),
      resources: resources(routeReports),
      ...(dmStatus ? { domainMappingObjectStatus: dmStatus } : {}),
      ...(cnameStatus ? { dnsRecordObjectStatus: { cnameRecordObjectStatus: cnameStatus } } : {}),
      ...(certStatus ? { certificateObjectStatus: certStatus } : {}),
    };
  }

  // Logging: Output, Flow (or SyslogNGOutput, SyslogNGFlow)
  const logType = spec.logSpec?.type;
  let loggingStatus: LoggingStatus | undefined;
  if (!logType) {
    manager.markTrue(CONDITION_LOGGING_READY, REASON_NOT_CONFIGURED, 'log shipping is not configured');
  } else {
    const logChildren = ofKinds(desired, LOGGING_OUTPUT, LOGGING_FLOW, SYSLOG_NG_OUTPUT, SYSLOG_NG_FLOW);
    const logReports = reports(logChildren);
    mark(
      manager,
      CONDITION_LOGGING_READY,
      logChildren.length === 0
        ? notRendered('an Output and a Flow')
        : aggregate(logReports, `logs ship to ${logType}`),
    );
    const logObjects = logChildren.map(live).filter((o): o is KubeObject => o !== undefined);
    const byKind = logChildren.flatMap((c) => {
      const s = foreignStatus(live(c));
      return s ? [[c.kind.toLowerCase(), s] as const] : [];
    });
    loggingStatus = {
      type: logType,
      resources: resources(logReports),
      ...Object.fromEntries(byKind),
      conditions: [loggingIsReady(logObjects, previous?.loggingStatus, now)],
    };
  }

  // Volumes: NfsPvc
  const volumes = spec.volumesSpec?.nfsVolumes ?? [];
  let volumesStatus: VolumesStatus | undefined;
  if (volumes.length === 0) {
    manager.markTrue(CONDITION_VOLUMES_READY, REASON_NOT_CONFIGURED, 'no NFS volumes are configured');
  } else {
    const pvcChildren = ofKinds(desired, NFS_PVC);
    const pvcReports = reports(pvcChildren);
    mark(
      manager,
      CONDITION_VOLUMES_READY,
      pvcChildren.length === 0
        ? notRendered('an NfsPvc per volume')
        : aggregate(pvcReports, 'every NFS volume is bound'),
    );
    volumesStatus = {
      resources: resources(pvcReports),
      nfsVolumesStatus: pvcChildren.map((c) => {
        const s = foreignStatus(live(c));
        return { volumeName: c.metadata.name, ...(s ? { nfsPvcStatus: s } : {}) };
      }),
    };
  }

  // Ready: derived; a disabled Capp is "ready as disabled" unless another part failed.
  const parts = CAPP_CONDITIONS.dependents.map((t) => manager.get(t));
  if (!enabled && !parts.some((c) => c?.status === 'False')) {
    manager.markTrue(
      CONDITION_READY,
      REASON_DISABLED,
      'the Capp is disabled: its Knative Service is removed, every other part is kept',
    );
  } else if (enabled && manager.isHappy()) {
    manager.markTrue(CONDITION_READY, REASON_READY, 'the Capp is ready');
  }

  const state = spec.state ?? DEFAULT_STATE;
  const before = previous?.stateStatus;
  const lastChange = before?.state === state && before.lastChange ? before.lastChange : now;

  const kstatus = foreignStatus(ksvcObject);
  const url = fqdn ? `${tls ? 'https' : 'http'}://${fqdn}` : str(kstatus?.['url']);

  const status: CappStatus = {
    ...(typeof capp.metadata.generation === 'number' ? { observedGeneration: capp.metadata.generation } : {}),
    conditions: manager.conditions(),
    ...(url ? { url } : {}),
    ...(kstatus ? { knativeObjectStatus: kstatus } : {}),
    ...(routeStatus ? { routeStatus } : {}),
    ...(loggingStatus ? { loggingStatus } : {}),
    ...(volumesStatus ? { volumesStatus } : {}),
    stateStatus: { state, lastChange },
    managedResources: desired.map(toManagedResource),
  };
  const carried = Object.entries(previous ?? {}).filter(
    ([key, value]) => !OWNED_FIELDS.has(key) && value !== undefined,
  );
  return { ...status, ...structuredClone(Object.fromEntries(carried)) };
}

/**
 * Deep equality of two statuses, blind only to key order (and to keys holding `undefined`, which
 * JSON — and so the stored status — cannot carry). Array order counts.
 */
export function statusEqual(a: CappStatus | undefined, b: CappStatus | undefined): boolean {
  return sameJson(a, b);
}
