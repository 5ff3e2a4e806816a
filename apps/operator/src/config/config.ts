import { parseArgs } from 'node:util';

import { DEFAULT_LOGGING_BACKEND, LOGGING_BACKENDS, type LoggingBackend } from '@capp/knative-adapter';

/** Operator settings, from flags first, then environment variables, then defaults; validated once at start. */
export interface OperatorConfig {
  /** Path to a kubeconfig; undefined means in-cluster or the default loading rules. */
  kubeconfig?: string;
  /** Namespaces to watch; empty means all. */
  namespaces: string[];
  operatorNamespace: string;
  concurrency: number;
  resyncSeconds: number;
  metricsPort: number;
  probePort: number;
  leaderElection: boolean;
  leaseName: string;
  leaseDurationSeconds: number;
  /** Identity in the Lease; pod name in a cluster. */
  identity: string;
  logLevel: string;
  /** HTTPS port of the admission webhooks (0 = no webhooks). */
  webhookPort: number;
  /** Directory with tls.crt and tls.key for the webhook server. */
  webhookCertDir: string;
  /** Users allowed to name the end user in rcs.dana.io/last-updated-by (the API's ServiceAccount). */
  trustedUpdaters: string[];
  knativeNamespace: string;
  /** Keep up to 10 CappRevision CRs per Capp for kubectl users, as container-app-operator v0.3.5 does. */
  cappRevisions: boolean;
  /** The logging-operator pipeline a Capp's `logSpec` renders for: Flow/Output or SyslogNGFlow/SyslogNGOutput. */
  loggingBackend: LoggingBackend;
  /** Evaluate HealthScopes (DESIGN §10). */
  healthScopes: boolean;
  /** HealthScope probes in flight at once, across every scope. */
  probeConcurrency: number;
  /** Hosts (`host` or `host:port`) traits' `processing.http` may GET from; empty: none. */
  traitHttpAllowedHosts: string[];
  /** Hub mode (multi-cluster through Open Cluster Management): place Capps on managed clusters. */
  hub: boolean;
  /** Hub mode: where Placements and PlacementDecisions are read. */
  placementsNamespace: string;
  /** Hub mode: the Placement a Capp with an empty `spec.site` takes. */
  defaultPlacement: string;
  /** Hub mode: the managed operators' leader Lease, read back as each cluster's heartbeat. */
  clusterHeartbeatLease: { namespace: string; name: string };
  /** Hub mode: how long a cluster's heartbeat may stand still before its Capps say Synced=Unknown. */
  clusterHeartbeatTimeoutSeconds: number;
}

export class ConfigError extends Error {}

const FLAGS = {
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig path (default: in-cluster, else ~/.kube/config)' },
  namespaces: { env: 'WATCH_NAMESPACES', help: 'comma-separated namespaces to watch (default: all)' },
  'operator-namespace': {
    env: 'OPERATOR_NAMESPACE',
    help: 'namespace of the autoscale-defaults and dns-config ConfigMaps and the Lease (default capp-operator-system)',
  },
  concurrency: { env: 'CONCURRENCY', help: 'Capps reconciled at once (default 4)' },
  'resync-seconds': {
    env: 'RESYNC_SECONDS',
    help: 'periodic re-reconcile of every Capp (default 300; 0 disables)',
  },
  'metrics-port': { env: 'METRICS_PORT', help: 'Prometheus /metrics port (default 8080; 0 = any free port)' },
  'probe-port': { env: 'PROBE_PORT', help: '/healthz and /readyz port (default 8081; 0 = any free port)' },
  'leader-elect': {
    env: 'LEADER_ELECT',
    help: 'true|false: use a Lease so only one replica reconciles (default true)',
  },
  'lease-name': { env: 'LEASE_NAME', help: 'Lease name (default capp-operator-leader)' },
  'lease-duration-seconds': { env: 'LEASE_DURATION_SECONDS', help: 'Lease duration (default 15)' },
  identity: { env: 'POD_NAME', help: 'identity in the Lease (default hostname-pid)' },
  'log-level': { env: 'LOG_LEVEL', help: 'pino level (default info)' },
  'webhook-port': {
    env: 'WEBHOOK_PORT',
    help: 'HTTPS port of the admission webhooks (default 0 = off; chart: 9443)',
  },
  'webhook-cert-dir': {
    env: 'WEBHOOK_CERT_DIR',
    help: 'directory with tls.crt and tls.key (default /tmp/k8s-webhook-server/serving-certs)',
  },
  'trusted-updaters': {
    env: 'TRUSTED_UPDATERS',
    help: 'comma-separated users that may set rcs.dana.io/last-updated-by themselves (the API ServiceAccount)',
  },
  'knative-namespace': {
    env: 'KNATIVE_NAMESPACE',
    help: "namespace of Knative Serving's config-features, config-defaults and config-autoscaler, which the webhook's Knative rules follow (default knative-serving)",
  },
  'trait-http-allowed-hosts': {
    env: 'TRAIT_HTTP_ALLOWED_HOSTS',
    help: "comma-separated hosts (host or host:port) CappTraits' processing.http may GET from (default none)",
  },
  'capp-revisions': {
    env: 'CAPP_REVISIONS',
    help: 'true|false: keep up to 10 CappRevision CRs per Capp for kubectl users, as v0.3.5 (default true)',
  },
  'logging-backend': {
    env: 'LOGGING_BACKEND',
    help: 'fluentd (Flow/Output) or syslog-ng (SyslogNGFlow/SyslogNGOutput, as v0.3.5): the logging-operator pipeline of the cluster (default fluentd)',
  },
  'health-scopes': {
    env: 'HEALTH_SCOPES',
    help: 'true|false: evaluate HealthScopes (default true)',
  },
  'probe-concurrency': {
    env: 'PROBE_CONCURRENCY',
    help: 'HealthScope HTTP probes in flight at once, across every scope (default 16)',
  },
  hub: {
    env: 'HUB_MODE',
    help: 'true|false: hub mode: place Capps on managed clusters through Open Cluster Management ManifestWorks instead of rendering them here (default false)',
  },
  'placements-namespace': {
    env: 'PLACEMENTS_NAMESPACE',
    help: 'hub mode: namespace of the Placements a site may name (default default)',
  },
  'default-placement': {
    env: 'DEFAULT_PLACEMENT',
    help: 'hub mode: the Placement of a Capp without site (default capp-default)',
  },
  'cluster-heartbeat-lease': {
    env: 'CLUSTER_HEARTBEAT_LEASE',
    help: "hub mode: namespace/name of the managed clusters' operator leader Lease, read back as their heartbeat (default capp-operator-system/capp-operator-leader)",
  },
  'cluster-heartbeat-timeout-seconds': {
    env: 'CLUSTER_HEARTBEAT_TIMEOUT_SECONDS',
    help: 'hub mode: a cluster whose heartbeat stands still this long is out of reach (default 60)',
  },
} as const;

type FlagName = keyof typeof FLAGS;

export const USAGE = `usage: operator [--flag value]...\n${Object.entries(FLAGS)
  .map(([flag, f]) => `  --${flag.padEnd(24)} ${f.help} [env ${f.env}]`)
  .join('\n')}`;

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function boolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`--${name} must be true or false, got "${raw}"`);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv, hostname: string): OperatorConfig {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const get = (flag: FlagName): string | undefined => values[flag] ?? env[FLAGS[flag].env];

  const namespaces = (get('namespaces') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of namespaces) {
    if (!DNS_LABEL.test(ns)) throw new ConfigError(`--namespaces: "${ns}" is not a valid namespace name`);
  }
  const operatorNamespace = get('operator-namespace') || 'capp-operator-system';
  if (!DNS_LABEL.test(operatorNamespace)) {
    throw new ConfigError(`--operator-namespace: "${operatorNamespace}" is not a valid namespace name`);
  }
  const loggingBackend = (get('logging-backend') || DEFAULT_LOGGING_BACKEND) as LoggingBackend;
  if (!LOGGING_BACKENDS.includes(loggingBackend)) {
    throw new ConfigError(
      `--logging-backend must be one of ${LOGGING_BACKENDS.join(', ')}, got "${loggingBackend}"`,
    );
  }
  const logLevel = get('log-level') || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`,
    );
  }
  const placementsNamespace = get('placements-namespace') || 'default';
  if (!DNS_LABEL.test(placementsNamespace)) {
    throw new ConfigError(`--placements-namespace: "${placementsNamespace}" is not a valid namespace name`);
  }
  const defaultPlacement = get('default-placement') || 'capp-default';
  const heartbeat = (get('cluster-heartbeat-lease') || 'capp-operator-system/capp-operator-leader').split(
    '/',
  );
  if (heartbeat.length !== 2 || !heartbeat.every((part) => DNS_SUBDOMAIN.test(part))) {
    throw new ConfigError(`--cluster-heartbeat-lease must be namespace/name, got "${heartbeat.join('/')}"`);
  }
  return {
    kubeconfig: get('kubeconfig') || undefined,
    namespaces,
    operatorNamespace,
    concurrency: integer('concurrency', get('concurrency'), 4, 1, 256),
    resyncSeconds: integer('resync-seconds', get('resync-seconds'), 300, 0, 86_400),
    metricsPort: integer('metrics-port', get('metrics-port'), 8080, 0, 65_535),
    probePort: integer('probe-port', get('probe-port'), 8081, 0, 65_535),
    leaderElection: boolean('leader-elect', get('leader-elect'), true),
    leaseName: get('lease-name') || 'capp-operator-leader',
    leaseDurationSeconds: integer('lease-duration-seconds', get('lease-duration-seconds'), 15, 2, 600),
    identity: get('identity') || `${hostname}-${process.pid}`,
    logLevel,
    webhookPort: integer('webhook-port', get('webhook-port'), 0, 0, 65_535),
    webhookCertDir: get('webhook-cert-dir') || '/tmp/k8s-webhook-server/serving-certs',
    trustedUpdaters: (get('trusted-updaters') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    knativeNamespace: get('knative-namespace') || 'knative-serving',
    cappRevisions: boolean('capp-revisions', get('capp-revisions'), true),
    loggingBackend,
    healthScopes: boolean('health-scopes', get('health-scopes'), true),
    probeConcurrency: integer('probe-concurrency', get('probe-concurrency'), 16, 1, 1024),
    traitHttpAllowedHosts: (get('trait-http-allowed-hosts') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    hub: boolean('hub', get('hub'), false),
    placementsNamespace,
    defaultPlacement,
    clusterHeartbeatLease: { namespace: heartbeat[0], name: heartbeat[1] },
    clusterHeartbeatTimeoutSeconds: integer(
      'cluster-heartbeat-timeout-seconds',
      get('cluster-heartbeat-timeout-seconds'),
      60,
      1,
      3600,
    ),
  };
}
