import {
  annotationMap,
  CAPP_NAME_MAX_LENGTH,
  CAPP_NAME_PATTERN,
  conditionSchema,
  DNS_LABEL_PATTERN,
  labelMap,
} from './capp.schema';
import { CAPP_API_VERSION, HEALTHSCOPE_KIND } from './constants';
import { ObjectNode, s } from './schema/nodes';
import { validateNode, ValidationIssue } from './schema/validate';

/**
 * The HealthScope schema (DESIGN §10): the one source of its CRD schema, `validateHealthScopeWrite`
 * and the API's OpenAPI document.
 */

export const PROBE_DEFAULTS = {
  method: 'GET',
  path: '/',
  timeoutSeconds: 1,
  periodSeconds: 10,
  successStatus: ['2xx'],
  failureThreshold: 3,
} as const;

export const DEFAULT_UNKNOWN_IS = 'unhealthy';

const has = (self: Record<string, unknown>, key: string): boolean =>
  self[key] !== undefined && self[key] !== null;

const labelSelectorSchema = s.object({
  description:
    "A label selector on the Capps of the scope's namespace (matchLabels and matchExpressions are ANDed; {} selects every Capp).",
  properties: {
    matchLabels: labelMap,
    matchExpressions: s.array({
      maxItems: 32,
      items: s.object({
        required: ['key', 'operator'],
        properties: {
          key: s.string({ minLength: 1, maxLength: 317 }),
          operator: s.string({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: s.array({ items: s.string({ maxLength: 63 }), maxItems: 64 }),
        },
        rules: [
          {
            rule: 'valuesForInNotIn',
            field: 'values',
            message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
            cel: "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
            check: (self) =>
              ['In', 'NotIn'].includes(String(self['operator'])) ===
              (Array.isArray(self['values']) && self['values'].length > 0),
          },
        ],
      }),
    }),
  },
});

export const healthProbeSchema: ObjectNode = s.object({
  description:
    'An HTTP probe of each member at its own URL (status.url); only the path and port are chosen here, never the host.',
  properties: {
    method: s.string({ enum: ['GET', 'HEAD'], default: PROBE_DEFAULTS.method }),
    path: s.string({
      description: 'Path (and query) to request.',
      pattern: { regex: '^/', message: 'must start with "/"' },
      maxLength: 1024,
      default: PROBE_DEFAULTS.path,
    }),
    port: s.integer({ minimum: 1, maximum: 65535, description: "Replaces the port of the Capp's URL." }),
    timeoutSeconds: s.integer({ minimum: 1, maximum: 60, default: PROBE_DEFAULTS.timeoutSeconds }),
    periodSeconds: s.integer({ minimum: 1, maximum: 3600, default: PROBE_DEFAULTS.periodSeconds }),
    successStatus: s.array({
      description: 'Status codes ("204") or classes ("2xx") that count as success; default ["2xx"].',
      minItems: 1,
      maxItems: 16,
      items: s.string({
        pattern: {
          regex: '^[1-5]([0-9][0-9]|xx)$',
          message: 'must be a status code such as "204" or a class such as "2xx"',
        },
      }),
    }),
    failureThreshold: s.integer({
      minimum: 1,
      maximum: 100,
      default: PROBE_DEFAULTS.failureThreshold,
      description: 'Consecutive failed probes before a member is Unhealthy (no retry within a period).',
    }),
  },
  rules: [
    {
      rule: 'timeoutWithinPeriod',
      field: 'timeoutSeconds',
      message: 'timeoutSeconds must be at most periodSeconds',
      cel: '!has(self.timeoutSeconds) || !has(self.periodSeconds) || self.timeoutSeconds <= self.periodSeconds',
      check: (self) =>
        !has(self, 'timeoutSeconds') ||
        !has(self, 'periodSeconds') ||
        Number(self['timeoutSeconds']) <= Number(self['periodSeconds']),
    },
  ],
});

export const healthScopeSpecSchema: ObjectNode = s.object({
  description: 'Which Capps of the namespace the scope groups, and how their health is judged.',
  properties: {
    cappRefs: s.array({
      description: 'Capps by name; a missing one is Unhealthy (reason NotFound).',
      maxItems: 1000,
      items: s.string({ pattern: CAPP_NAME_PATTERN, minLength: 1, maxLength: CAPP_NAME_MAX_LENGTH }),
    }),
    selector: labelSelectorSchema,
    probe: healthProbeSchema,
    unknownIs: s.string({
      description: 'How a member of Unknown health counts: as unhealthy, or not at all.',
      enum: ['unhealthy', 'ignored'],
      default: DEFAULT_UNKNOWN_IS,
    }),
  },
  rules: [
    {
      rule: 'membersRequired',
      field: 'cappRefs',
      message: 'cappRefs or selector (or both) must be set',
      cel: 'has(self.cappRefs) || has(self.selector)',
      check: (self) => has(self, 'cappRefs') || has(self, 'selector'),
    },
  ],
});

const count = (description: string): ReturnType<typeof s.integer> => s.integer({ minimum: 0, description });

export const healthScopeStatusSchema: ObjectNode = s.object({
  properties: {
    observedGeneration: s.integer({ format: 'int64' }),
    health: s.string({ enum: ['Healthy', 'Unhealthy', 'Unknown', 'Empty'] }),
    total: count('Members, whatever their health.'),
    healthy: count('Members that are Healthy.'),
    unhealthy: count('Members that are Unhealthy.'),
    unknown: count('Members of Unknown health.'),
    disabled: count('Members that are disabled (not counted against the scope).'),
    capps: s.array({
      mapKeys: ['name'],
      items: s.object({
        required: ['name', 'health'],
        properties: {
          name: s.string(),
          health: s.string({ enum: ['Healthy', 'Unhealthy', 'Unknown', 'Disabled'] }),
          reason: s.string(),
          message: s.string(),
          since: s.string({ format: 'date-time' }),
          probe: s.object({
            description: 'The probe that decided the current verdict.',
            properties: { status: s.string(), latencyMs: s.integer({ format: 'int64', minimum: 0 }) },
          }),
        },
      }),
    }),
    lastChanged: s.string({ format: 'date-time', description: 'When health last changed.' }),
    conditions: s.array({ items: conditionSchema, mapKeys: ['type'] }),
  },
});

/** The body of a HealthScope write through the REST API (the CR's own shape, without server-owned fields). */
export const healthScopeWriteSchema: ObjectNode = s.object({
  required: ['metadata', 'spec'],
  properties: {
    apiVersion: s.string({ enum: [CAPP_API_VERSION] }),
    kind: s.string({ enum: [HEALTHSCOPE_KIND] }),
    metadata: s.object({
      properties: {
        // As a Capp's: the API's path parameter `name` is judged by the same rule.
        name: s.string({ pattern: CAPP_NAME_PATTERN, minLength: 1, maxLength: CAPP_NAME_MAX_LENGTH }),
        namespace: s.string({ pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
        labels: labelMap,
        annotations: annotationMap,
      },
    }),
    spec: healthScopeSpecSchema,
  },
});

/** Validates a REST API write body of a HealthScope; an empty list means valid. */
export function validateHealthScopeWrite(obj: unknown): ValidationIssue[] {
  return validateNode(healthScopeWriteSchema, obj, '');
}
