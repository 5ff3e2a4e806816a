/** TypeScript shape of the HealthScope resource (`rcs.dana.io/v1alpha1`); `healthscope.schema.ts` validates it. */
import type { Condition, ObjectMeta } from './capp.types';
import type { LabelSelector } from './label-selector';

/** An HTTP probe against each member's own URL (`status.url`): only the path and port are the user's. */
export interface HealthProbe {
  method?: 'GET' | 'HEAD';
  path?: string;
  /** Replaces the port of the Capp's URL. */
  port?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  /** Status codes (`"204"`) or classes (`"2xx"`) that count as success; default `["2xx"]`. */
  successStatus?: string[];
  /** Consecutive failures before a member is Unhealthy. */
  failureThreshold?: number;
}

export type UnknownIs = 'unhealthy' | 'ignored';

/** A type, not an interface, so a HealthScope is a {@link KubeObject}. */
export type HealthScopeSpec = {
  cappRefs?: string[];
  selector?: LabelSelector;
  probe?: HealthProbe;
  unknownIs?: UnknownIs;
};

/** The health of a scope. */
export type ScopeHealth = 'Healthy' | 'Unhealthy' | 'Unknown' | 'Empty';
/** The health of one member. */
export type MemberHealth = 'Healthy' | 'Unhealthy' | 'Unknown' | 'Disabled';

export interface MemberStatus {
  name: string;
  health: MemberHealth;
  /** CamelCase: `Ready`, `NotFound`, `Disabled`, `ProbeFailed`, `ProbeTimeout`, … */
  reason: string;
  message: string;
  /** When this member's health last changed. */
  since: string;
  /**
   * The probe that decided the current verdict (not every probe: live latencies are in the
   * `capp_probe_duration_seconds` histogram, so an idle scope is not rewritten every period).
   */
  probe?: { status: string; latencyMs: number };
}

export type HealthScopeStatus = {
  observedGeneration?: number;
  health?: ScopeHealth;
  total?: number;
  healthy?: number;
  unhealthy?: number;
  unknown?: number;
  disabled?: number;
  capps?: MemberStatus[];
  /** When `health` last changed (not a heartbeat). */
  lastChanged?: string;
  conditions?: Condition[];
};

export type HealthScope = {
  apiVersion: 'rcs.dana.io/v1alpha1';
  kind: 'HealthScope';
  metadata: ObjectMeta & { name: string };
  spec: HealthScopeSpec;
  status?: HealthScopeStatus;
};

/** What a client sends to the REST API (see `healthScopeWriteSchema`). */
export interface HealthScopeWrite {
  apiVersion?: 'rcs.dana.io/v1alpha1';
  kind?: 'HealthScope';
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: HealthScopeSpec;
}
