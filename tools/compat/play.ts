/**
 * What the external controllers of a Capp's children would write, decided from objects alone (pure):
 * the compat run has no Knative, cert-manager, provider-dns, nfspvc-operator or logging operator,
 * so the player (player.ts) writes the statuses they would. Each function names the fields the
 * container-app-operator v0.3.5 suite, or our operator, reads of that kind.
 */
import { createHash } from 'node:crypto';

import { canonicalJson, KubeObject, sameJson } from '@capp/capp-model';
import {
  CERTIFICATE,
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
} from '@capp/knative-adapter';

type Obj = Record<string, unknown>;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export const REVISION: ChildKind = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  plural: 'revisions',
  namespaced: true,
};

export const CONFIGURATION: ChildKind = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Configuration',
  plural: 'configurations',
  namespaced: true,
};

/**
 * The Configuration Knative's service controller keeps for a Service (same name, owned by it,
 * labelled with it): the owner of its Revisions, which Serving's admission insists on (a Revision
 * labelled with a configuration must be owned by it).
 */
export function configurationFor(ksvc: KubeObject): KubeObject {
  return {
    apiVersion: CONFIGURATION.apiVersion,
    kind: CONFIGURATION.kind,
    metadata: {
      name: ksvc.metadata.name,
      namespace: ksvc.metadata.namespace,
      labels: { [LABEL_SERVICE]: ksvc.metadata.name },
      ownerReferences: [
        {
          apiVersion: KNATIVE_SERVICE.apiVersion,
          kind: KNATIVE_SERVICE.kind,
          name: ksvc.metadata.name,
          uid: ksvc.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { template: structuredClone(rec(ksvc.spec)['template'] ?? {}) },
  };
}

/** Kinds whose status depends on the object alone. */
export const SIMPLE_KINDS: readonly ChildKind[] = [
  DOMAIN_MAPPING,
  CERTIFICATE,
  CNAME_RECORD,
  NFS_PVC,
  LOGGING_OUTPUT,
  LOGGING_FLOW,
  SYSLOG_NG_OUTPUT,
  SYSLOG_NG_FLOW,
];

/** Labels and annotation Knative puts on a Revision (the player finds a Service's revisions by them). */
export const LABEL_SERVICE = 'serving.knative.dev/service';
export const LABEL_CONFIGURATION = 'serving.knative.dev/configuration';
export const LABEL_CONFIGURATION_GENERATION = 'serving.knative.dev/configurationGeneration';
/** Ours: the template a Revision was cut from (Knative compares Configuration generations instead). */
export const ANNOTATION_TEMPLATE_HASH = 'compat.capp.local/template-hash';

/** The cluster's default Knative domain when none is configured. */
const KNATIVE_DOMAIN = 'example.com';

const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);

/**
 * `wanted` conditions, each keeping the `lastTransitionTime` of `previous`'s same-type condition when
 * its status did not change (so writing the same status twice is a no-op).
 */
export function withTransitions(
  previous: unknown,
  wanted: ReadonlyArray<Omit<Condition, 'lastTransitionTime'>>,
  now: string,
): Condition[] {
  const before = arr(previous);
  return wanted.map((c) => {
    const old = before.find((p) => p['type'] === c.type);
    const time =
      old && old['status'] === c.status && typeof old['lastTransitionTime'] === 'string'
        ? old['lastTransitionTime']
        : now;
    return { ...c, lastTransitionTime: time };
  });
}

const trueConditions = (
  obj: KubeObject,
  now: string,
  types: ReadonlyArray<[string, string]>,
  withGeneration = false,
): Condition[] =>
  withTransitions(
    obj.status?.['conditions'],
    types.map(([type, reason]) => ({
      type,
      status: 'True' as const,
      reason,
      ...(withGeneration && typeof obj.metadata.generation === 'number'
        ? { observedGeneration: obj.metadata.generation }
        : {}),
    })),
    now,
  );

const generation = (obj: KubeObject): Obj =>
  typeof obj.metadata.generation === 'number' ? { observedGeneration: obj.metadata.generation } : {};

/** The Secret cert-manager writes a Certificate's key pair to. */
export function tlsSecretFor(certificate: KubeObject): KubeObject | undefined {
  const secretName = rec(certificate.spec)['secretName'];
  if (typeof secretName !== 'string' || !secretName || !certificate.metadata.namespace) return undefined;
  // Placeholders: nothing here terminates TLS, and the API server checks only that both keys exist.
  const pem = (label: string): string =>
    Buffer.from(`-----BEGIN ${label}-----\ncompat-player\n-----END ${label}-----\n`).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName,
      namespace: certificate.metadata.namespace,
      labels: { 'controller.cert-manager.io/fao': 'true' },
      annotations: { 'cert-manager.io/certificate-name': certificate.metadata.name },
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY') },
  };
}

/**
 * The status the kind's controller writes once it has done its work, or undefined for a kind the
 * player does not play. Stable: the same object (with that status) gives the same status again.
 */
export function playedStatus(obj: KubeObject, now: string): Obj | undefined {
  const status = rec(obj.status);
  if (isKind(obj, DOMAIN_MAPPING)) {
    // Knative: url is https once spec.tls names a Secret (the suite reads its host).
    const scheme = rec(obj.spec)['tls'] ? 'https' : 'http';
    return {
      ...generation(obj),
      url: `${scheme}://${obj.metadata.name}`,
      address: { url: `http://${obj.metadata.name}` },
      conditions: trueConditions(obj, now, [
        ['CertificateProvisioned', 'Provisioned'],
        ['DomainClaimed', 'Claimed'],
        ['IngressReady', 'IngressReady'],
        ['Ready', 'Ready'],
        ['ReferenceResolved', 'Resolved'],
      ]),
    };
  }
  if (isKind(obj, CERTIFICATE)) {
    const notBefore = typeof status['notBefore'] === 'string' ? status['notBefore'] : now;
    const later = (days: number): string =>
      new Date(Date.parse(notBefore) + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      conditions: trueConditions(obj, now, [['Ready', 'Ready']], true),
      notBefore,
      notAfter: later(90),
      renewalTime: later(60),
      revision: 1,
    };
  }
  if (isKind(obj, CNAME_RECORD)) {
    // Crossplane managed resource: Synced (the provider acted) and Ready (the record exists).
    return {
      conditions: trueConditions(obj, now, [
        ['Ready', 'Available'],
        ['Synced', 'ReconcileSuccess'],
      ]),
    };
  }
  if (isKind(obj, NFS_PVC)) return { pvcPhase: 'Bound', pvPhase: 'Bound' };
  if ([LOGGING_OUTPUT, LOGGING_FLOW, SYSLOG_NG_OUTPUT, SYSLOG_NG_FLOW].some((k) => isKind(obj, k))) {
    return { active: true, problems: [], problemsCount: 0 };
  }
  return undefined;
}

/**
 * What the run reports beside the suite's verdict: choices of our operator that the suite does not
 * assert but a v0.3.5 installation depends on (the issuer and DNS provider its dns-config names).
 */
export function observations(obj: KubeObject): Array<[string, string]> {
  const spec = rec(obj.spec);
  if (isKind(obj, CERTIFICATE)) {
    const ref = rec(spec['issuerRef']);
    return [['Certificate spec.issuerRef', `${String(ref['name'])} (${String(ref['kind'] ?? 'Issuer')})`]];
  }
  if (isKind(obj, CNAME_RECORD)) {
    return [['CNAMERecord spec.providerConfigRef.name', String(rec(spec['providerConfigRef'])['name'])]];
  }
  if (obj.kind === 'ConfigMap' && obj.apiVersion === 'v1') {
    const data = Object.entries(rec(obj['data'])).sort(([a], [b]) => a.localeCompare(b));
    return [[`ConfigMap ${obj.metadata.name}`, data.map(([k, v]) => `${k}=${String(v)}`).join(', ')]];
  }
  return [];
}

/** True when every field of `wanted` already holds in `current` (fields it does not name are left alone). */
export function statusHolds(current: unknown, wanted: Obj): boolean {
  const have = rec(current);
  return Object.entries(wanted).every(([key, value]) => sameJson(have[key], value));
}

// --- Knative Serving: a Revision per template, the Service's status from its Revisions

/** A short digest of the Service's `spec.template`: a new one is a new Revision. */
export function templateHash(ksvc: KubeObject): string {
  return createHash('sha256')
    .update(canonicalJson(rec(ksvc.spec)['template'] ?? {}))
    .digest('hex')
    .slice(0, 16);
}

/** The 5-digit sequence number Knative appends to a Revision's name (`<service>-00002` → 2). */
export function revisionNumber(name: string): number {
  const m = /-(\d{5,})$/.exec(name);
  return m ? Number(m[1]) : 0;
}

const byNumber = (a: KubeObject, b: KubeObject): number =>
  revisionNumber(a.metadata.name) - revisionNumber(b.metadata.name);

/** The Service's own Revisions (the player makes them controlled by the Service), oldest first. */
export function ownedRevisions(ksvc: KubeObject, revisions: readonly KubeObject[]): KubeObject[] {
  const uid = ksvc.metadata.uid;
  return revisions
    .filter((r) => r.metadata.namespace === ksvc.metadata.namespace)
    .filter((r) => (r.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.controller))
    .sort(byNumber);
}

/**
 * The Revision Knative would cut for the Service's current template, or undefined when one already
 * exists (same template hash). Numbered after the highest existing one, like Knative's
 * configuration generation.
 */
export function nextRevision(
  ksvc: KubeObject,
  owned: readonly KubeObject[],
  owner: KubeObject = ksvc,
): KubeObject | undefined {
  const hash = templateHash(ksvc);
  if (owned.some((r) => r.metadata.annotations?.[ANNOTATION_TEMPLATE_HASH] === hash)) return undefined;
  const n = Math.max(0, ...owned.map((r) => revisionNumber(r.metadata.name))) + 1;
  const name = `${ksvc.metadata.name}-${String(n).padStart(5, '0')}`;
  const template = rec(rec(ksvc.spec)['template']);
  const meta = rec(template['metadata']);
  const templateLabels = rec(meta['labels']) as Record<string, string>;
  const templateAnnotations = rec(meta['annotations']) as Record<string, string>;
  return {
    apiVersion: REVISION.apiVersion,
    kind: REVISION.kind,
    metadata: {
      name,
      namespace: ksvc.metadata.namespace,
      labels: {
        ...templateLabels,
        [LABEL_SERVICE]: ksvc.metadata.name,
        [LABEL_CONFIGURATION]: ksvc.metadata.name,
        [LABEL_CONFIGURATION_GENERATION]: String(n),
      },
      annotations: { ...templateAnnotations, [ANNOTATION_TEMPLATE_HASH]: hash },
      ownerReferences: [
        {
          apiVersion: owner.apiVersion,
          kind: owner.kind,
          name: owner.metadata.name,
          uid: owner.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone(rec(template['spec'])),
  };
}

/** What a Revision's pods need from the cluster: its images and the Secrets (and keys) they read. */
export interface RevisionNeeds {
  images: string[];
  /** Secret name → keys read from it (empty: the whole Secret). Optional references are left out. */
  secrets: Map<string, Set<string>>;
}

export function revisionNeeds(revision: KubeObject): RevisionNeeds {
  const spec = rec(revision.spec);
  const containers = [...arr(spec['containers']), ...arr(spec['initContainers'])];
  const secrets = new Map<string, Set<string>>();
  const need = (name: unknown, key?: unknown, optional?: unknown): void => {
    if (typeof name !== 'string' || optional === true) return;
    const keys = secrets.get(name) ?? new Set<string>();
    if (typeof key === 'string') keys.add(key);
    secrets.set(name, keys);
  };
  for (const c of containers) {
    for (const e of arr(c['env'])) {
      const ref = rec(rec(e['valueFrom'])['secretKeyRef']);
      if (Object.keys(ref).length > 0) need(ref['name'], ref['key'], ref['optional']);
    }
    for (const e of arr(c['envFrom'])) {
      const ref = rec(e['secretRef']);
      if (Object.keys(ref).length > 0) need(ref['name'], undefined, ref['optional']);
    }
  }
  for (const v of arr(spec['volumes'])) {
    const s = rec(v['secret']);
    if (Object.keys(s).length > 0) need(s['secretName'], undefined, s['optional']);
  }
  const images = containers.map((c) => c['image']).filter((i): i is string => typeof i === 'string');
  return { images, secrets };
}

export interface Verdict {
  ready: boolean;
  reason?: string;
  message?: string;
}

/**
 * Would the Revision's pods start? Not when an image does not resolve (`missingImages`: the player has
 * no registry to ask) or a Secret or key they read is missing — Knative then reports the Revision failed.
 */
export function revisionVerdict(
  needs: RevisionNeeds,
  secretKeys: (name: string) => ReadonlySet<string> | undefined,
  missingImages: ReadonlySet<string>,
): Verdict {
  const image = needs.images.find((i) => missingImages.has(i));
  if (image) {
    return {
      ready: false,
      reason: 'ContainerMissing',
      message: `Unable to fetch image "${image}": failed to resolve image to digest`,
    };
  }
  for (const [name, keys] of needs.secrets) {
    const have = secretKeys(name);
    if (!have)
      return { ready: false, reason: 'CreateContainerConfigError', message: `secret "${name}" not found` };
    const missing = [...keys].find((k) => !have.has(k));
    if (missing) {
      return {
        ready: false,
        reason: 'CreateContainerConfigError',
        message: `couldn't find key ${missing} in Secret ${name}`,
      };
    }
  }
  return { ready: true };
}

export function revisionStatus(revision: KubeObject, verdict: Verdict, now: string): Obj {
  const status = verdict.ready ? ('True' as const) : ('False' as const);
  const failed = verdict.ready ? {} : { reason: verdict.reason, message: verdict.message };
  return {
    ...generation(revision),
    conditions: withTransitions(
      revision.status?.['conditions'],
      [
        { type: 'ContainerHealthy', status, ...failed },
        { type: 'Ready', status, ...failed },
        { type: 'ResourcesAvailable', status, ...failed },
      ],
      now,
    ),
    ...(verdict.ready ? { actualReplicas: 1, desiredReplicas: 1 } : {}),
  };
}

const isReady = (r: KubeObject): boolean =>
  arr(r.status?.['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');

/**
 * The Service's status as Knative reports it: latest created and latest ready Revision, traffic on
 * the latest ready one, Ready while the latest created Revision is ready.
 */
export function serviceStatus(ksvc: KubeObject, owned: readonly KubeObject[], now: string): Obj {
  const sorted = [...owned].sort(byNumber);
  const latest = sorted.at(-1);
  const latestReady = sorted.filter(isReady).at(-1);
  const name = ksvc.metadata.name;
  const ns = ksvc.metadata.namespace ?? 'default';
  const latestCondition = arr(latest?.status?.['conditions']).find((c) => c['type'] === 'Ready');
  const configReady: Omit<Condition, 'lastTransitionTime'> =
    latest && latest === latestReady
      ? { type: 'ConfigurationsReady', status: 'True' }
      : latest && latestCondition?.['status'] === 'False'
        ? {
            type: 'ConfigurationsReady',
            status: 'False',
            reason: 'RevisionFailed',
            message: `Revision "${latest.metadata.name}" failed with message: ${String(latestCondition['message'] ?? '')}.`,
          }
        : { type: 'ConfigurationsReady', status: 'Unknown', reason: 'Deploying' };
  const routesReady: Omit<Condition, 'lastTransitionTime'> = latestReady
    ? { type: 'RoutesReady', status: 'True' }
    : { type: 'RoutesReady', status: 'Unknown', reason: 'RevisionMissing' };
  const ready: Omit<Condition, 'lastTransitionTime'> =
    configReady.status === 'True' && routesReady.status === 'True'
      ? { type: 'Ready', status: 'True' }
      : { ...(configReady.status !== 'True' ? configReady : routesReady), type: 'Ready' };
  return {
    ...generation(ksvc),
    conditions: withTransitions(ksvc.status?.['conditions'], [configReady, ready, routesReady], now),
    ...(latest ? { latestCreatedRevisionName: latest.metadata.name } : {}),
    ...(latestReady ? { latestReadyRevisionName: latestReady.metadata.name } : {}),
    url: `http://${name}.${ns}.${KNATIVE_DOMAIN}`,
    address: { url: `http://${name}.${ns}.svc.cluster.local` },
    traffic: latestReady
      ? [{ revisionName: latestReady.metadata.name, latestRevision: true, percent: 100 }]
      : [],
  };
}
