import { ScaleMetric } from '@capp/capp-model';

import { ConfigError } from './errors';

/** Name of the ConfigMap (operator namespace) holding the autoscale targets. */
export const AUTOSCALE_DEFAULTS_CONFIGMAP = 'autoscale-defaults';
/** Name of the ConfigMap (operator namespace) holding the DNS zone and certificate issuer. */
export const DNS_CONFIGMAP = 'dns-config';

/** The target of each scale metric, and the activation scale, applied to every Capp. */
export interface AutoscaleDefaults extends Record<ScaleMetric, number> {
  activationScale: number;
}

export interface DnsConfig {
  /** DNS zone, a FQDN with its trailing dot (`apps.example.com.`). */
  zone: string;
  /** Target of every CNAME record (the ingress). */
  cname: string;
  /** Crossplane provider-dns ProviderConfig used by the CNAME records (key `providerConfigName`, or v0.3.5's `provider`). */
  providerConfigName: string;
  /** The certificate issuer (key `issuerName`, or v0.3.5's `issuer`). */
  issuerName: string;
  issuerKind: string;
  issuerGroup: string;
}

/** A ConfigMap, or the part of it the parsers read. */
export interface ConfigMapLike {
  data?: Record<string, string>;
}

/** Values used when the ConfigMap or one of its keys is missing (DESIGN §3). */
export const AUTOSCALE_FALLBACKS: Readonly<AutoscaleDefaults> = Object.freeze({
  rps: 200,
  cpu: 80,
  memory: 70,
  concurrency: 10,
  activationScale: 3,
});

/**
 * Defaults of the optional dns-config keys. container-app-operator v0.3.5 defaults the provider to
 * `dns-default` too; it has no issuer default worth matching (`cert-issuer`, used only when the
 * ConfigMap is empty, when no Capp can have a hostname anyway), so ours stays cert-external-issuer's.
 */
export const DNS_DEFAULTS = Object.freeze({
  providerConfigName: 'dns-default',
  issuerName: 'cert-external-issuer',
  issuerKind: 'ClusterIssuer',
  issuerGroup: 'cert.dana.io',
});

interface IntRule {
  min: number;
  max?: number;
  text: string;
}

const PERCENT: IntRule = { min: 1, max: 100, text: 'must be an integer between 1 and 100' };
const POSITIVE: IntRule = { min: 1, text: 'must be a positive integer' };

const AUTOSCALE_RULES: Record<keyof AutoscaleDefaults, IntRule> = {
  rps: POSITIVE,
  cpu: PERCENT,
  memory: PERCENT,
  concurrency: POSITIVE,
  activationScale: { min: 1, text: 'must be an integer of at least 1' },
};

/** A key's value, trimmed; an empty value counts as absent (as a Helm-templated empty string would). */
function valueOf(cm: ConfigMapLike | undefined, key: string): string | undefined {
  const raw = cm?.data?.[key];
  if (raw === undefined || raw === null) return undefined;
  const value = String(raw).trim();
  return value === '' ? undefined : value;
}

function fail(configMap: string, key: string, rule: string, raw?: unknown): never {
  const got = raw === undefined ? '' : `, got ${JSON.stringify(raw)}`;
  throw new ConfigError(`ConfigMap ${configMap}: key "${key}" ${rule}${got}`, configMap, key);
}

function parseTarget(key: keyof AutoscaleDefaults, value: string, raw: unknown): number {
  const rule = AUTOSCALE_RULES[key];
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < rule.min || (rule.max !== undefined && n > rule.max)) {
    fail(AUTOSCALE_DEFAULTS_CONFIGMAP, key, rule.text, raw);
  }
  return n;
}

/**
 * Reads ConfigMap `autoscale-defaults`. A missing ConfigMap or key takes its fallback
 * (rps 200, cpu 80, memory 70, concurrency 10, activationScale 3); a bad value throws a ConfigError
 * naming the key and the rule.
 */
export function parseAutoscaleDefaults(cm: ConfigMapLike | undefined): AutoscaleDefaults {
  const out = { ...AUTOSCALE_FALLBACKS };
  for (const key of Object.keys(AUTOSCALE_RULES) as Array<keyof AutoscaleDefaults>) {
    const value = valueOf(cm, key);
    if (value !== undefined) out[key] = parseTarget(key, value, cm?.data?.[key]);
  }
  return out;
}

/**
 * container-app-operator v0.3.5's spelling of our keys. A dns-config written for it has only these,
 * and is read as is. When a ConfigMap has both spellings, ours wins: the Go operator never reads it,
 * so whoever added it meant it for this platform.
 */
export const DNS_CONFIG_V03_KEYS = Object.freeze({ providerConfigName: 'provider', issuerName: 'issuer' });

const DNS_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?\.?$/;

/**
 * Reads ConfigMap `dns-config`; `undefined` when there is none (then no Capp may set a hostname).
 * `zone` (a DNS name ending with ".") and `cname` are required; the provider config and the issuer
 * default to `dns-default` and cert-external-issuer's `ClusterIssuer` (group `cert.dana.io`).
 * `providerConfigName` and `issuerName` may be spelled as v0.3.5 did (`provider`, `issuer`);
 * when both spellings are set, ours wins (see {@link DNS_CONFIG_V03_KEYS}).
 */
export function parseDnsConfig(cm: ConfigMapLike | undefined): DnsConfig | undefined {
  if (cm === undefined) return undefined;
  const required = (key: string): string => valueOf(cm, key) ?? fail(DNS_CONFIGMAP, key, 'is required');

  const zone = required('zone').toLowerCase();
  if (!zone.endsWith('.') || zone === '.' || !DNS_NAME.test(zone)) {
    fail(
      DNS_CONFIGMAP,
      'zone',
      'must be a DNS name ending with "." (such as "apps.example.com.")',
      cm.data?.['zone'],
    );
  }
  const cname = required('cname').toLowerCase();
  if (!DNS_NAME.test(cname)) {
    fail(DNS_CONFIGMAP, 'cname', 'must be a DNS name (such as "ingress.example.com.")', cm.data?.['cname']);
  }
  return {
    zone,
    cname,
    providerConfigName:
      valueOf(cm, 'providerConfigName') ??
      valueOf(cm, DNS_CONFIG_V03_KEYS.providerConfigName) ??
      DNS_DEFAULTS.providerConfigName,
    issuerName:
      valueOf(cm, 'issuerName') ?? valueOf(cm, DNS_CONFIG_V03_KEYS.issuerName) ?? DNS_DEFAULTS.issuerName,
    issuerKind: valueOf(cm, 'issuerKind') ?? DNS_DEFAULTS.issuerKind,
    issuerGroup: valueOf(cm, 'issuerGroup') ?? DNS_DEFAULTS.issuerGroup,
  };
}
