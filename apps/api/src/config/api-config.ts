/**
 * API settings from the environment, validated once at start (the only place that reads
 * `process.env`). Every problem is reported at once, naming the variable and the rule.
 */
export type AuthMode = 'kubernetes' | 'none';

export interface ApiConfig {
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** Path to a kubeconfig; undefined means in-cluster, else the default loading rules. */
  kubeconfig?: string;
  authMode: AuthMode;
  /** How long a TokenReview / SubjectAccessReview answer is reused. */
  authCacheSeconds: number;
  /** Revisions kept per Capp (the oldest are pruned in the same transaction). */
  revisionLimit: number;
  /** How long a write waits for the cluster apply before answering 202 with `sync: Pending`. */
  syncWaitMs: number;
  syncConcurrency: number;
  /** How long a write waits for the cluster's dry run (admission) before it is accepted anyway. */
  admissionTimeoutMs: number;
  /** Period of the sweep that re-enqueues Pending rows (e.g. after a crash between commit and enqueue). */
  sweepSeconds: number;
  /** Requests per minute per client (0 disables the limit). */
  rateLimitPerMinute: number;
  bodyLimit: string;
  /** Allowed CORS origins; empty disables CORS, `*` allows any. */
  corsOrigins: string[];
  logLevel: string;
  /** Watch Capps in the cluster (cached status, kubectl edits as revisions). */
  watchCluster: boolean;
  /** Redis key prefix of the sync queue (several installations may share one Redis). */
  queuePrefix: string;
  /** Capps whose JSON the read path keeps, by row revision (0: none). */
  viewCacheSize: number;
}

export class ConfigError extends Error {}

export const CONFIG_HELP: Record<string, string> = {
  HOST: 'listen address (default 0.0.0.0)',
  PORT: 'listen port (default 3000; 0 = any free port)',
  DATABASE_URL: 'PostgreSQL URL (required)',
  REDIS_URL: 'Redis URL (required)',
  KUBECONFIG: 'kubeconfig path (default: in-cluster, else ~/.kube/config)',
  AUTH_MODE: 'kubernetes (TokenReview + SubjectAccessReview, default) or none (dev only: no auth)',
  AUTH_CACHE_SECONDS: 'reuse of token and permission checks (default 10)',
  REVISION_LIMIT: 'revisions kept per Capp (default 10)',
  SYNC_WAIT_MS: 'how long a write waits for the cluster before answering 202 (default 2000)',
  SYNC_CONCURRENCY: 'cluster applies at once (default 8)',
  ADMISSION_TIMEOUT_MS:
    "how long a write waits for the cluster's dry run before it is accepted anyway (default 5000)",
  SWEEP_SECONDS: 're-enqueue period for rows still Pending (default 30)',
  RATE_LIMIT_PER_MINUTE: 'requests per minute per client (default 600; 0 disables)',
  BODY_LIMIT: 'largest request body (default 512kb)',
  CORS_ORIGINS: 'comma-separated allowed origins, or * (default: CORS off)',
  LOG_LEVEL: 'pino level (default info)',
  WATCH_CLUSTER: 'true|false: follow Capps in the cluster (default true)',
  QUEUE_PREFIX: 'Redis key prefix of the sync queue (default capp)',
  VIEW_CACHE_SIZE: 'Capps whose JSON the read path keeps, by row revision (default 10000; 0 = none)',
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const problems: string[] = [];
  const get = (key: string): string | undefined => {
    const v = env[key]?.trim();
    return v === '' ? undefined : v;
  };
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const url = (key: string, protocols: string[]): string => {
    const raw = get(key);
    if (raw === undefined) {
      problems.push(`${key} is required (${CONFIG_HELP[key]})`);
      return '';
    }
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error();
    } catch {
      problems.push(`${key} must be a ${protocols.join(' or ')}// URL`);
    }
    return raw;
  };

  const authMode = (get('AUTH_MODE') ?? 'kubernetes') as AuthMode;
  if (!['kubernetes', 'none'].includes(authMode))
    problems.push(`AUTH_MODE must be kubernetes or none, got "${authMode}"`);
  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const bodyLimit = get('BODY_LIMIT') ?? '512kb';
  if (!/^\d+(b|kb|mb)$/i.test(bodyLimit))
    problems.push(`BODY_LIMIT must be a size such as 512kb or 1mb, got "${bodyLimit}"`);
  const watchRaw = get('WATCH_CLUSTER') ?? 'true';
  if (!['true', 'false'].includes(watchRaw))
    problems.push(`WATCH_CLUSTER must be true or false, got "${watchRaw}"`);

  const config: ApiConfig = {
    host: get('HOST') ?? '0.0.0.0',
    port: integer('PORT', 3000, 0, 65_535),
    databaseUrl: url('DATABASE_URL', ['postgresql:', 'postgres:']),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    kubeconfig: get('KUBECONFIG'),
    authMode,
    authCacheSeconds: integer('AUTH_CACHE_SECONDS', 10, 0, 3600),
    revisionLimit: integer('REVISION_LIMIT', 10, 1, 1000),
    syncWaitMs: integer('SYNC_WAIT_MS', 2000, 0, 60_000),
    syncConcurrency: integer('SYNC_CONCURRENCY', 8, 1, 256),
    admissionTimeoutMs: integer('ADMISSION_TIMEOUT_MS', 5000, 100, 60_000),
    sweepSeconds: integer('SWEEP_SECONDS', 30, 1, 3600),
    rateLimitPerMinute: integer('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    bodyLimit,
    corsOrigins: (get('CORS_ORIGINS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    logLevel,
    watchCluster: watchRaw === 'true',
    queuePrefix: get('QUEUE_PREFIX') ?? 'capp',
    viewCacheSize: integer('VIEW_CACHE_SIZE', 10_000, 0, 10_000_000),
  };
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.queuePrefix))
    problems.push(`QUEUE_PREFIX must be 1-64 letters, digits, "_" or "-", got "${config.queuePrefix}"`);
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

/** Injection token of the validated configuration. */
export const API_CONFIG = Symbol('API_CONFIG');
