/**
 * Resource policies (DESIGN §9, after KubeVela's ResourceTracker): the life-cycle of each of a Capp's
 * children. One schema for `spec.resourcePolicy` and for the platform-wide defaults in the ConfigMap
 * `capp-resource-policy`; a Capp's own rules win for what they select.
 */
import { type ObjectNode, s } from './schema/nodes';

/** The child kinds a selector names (the Knative Service is `Service`). */
export const POLICY_CHILD_KINDS = [
  'Service',
  'NfsPvc',
  'Output',
  'Flow',
  'SyslogNGOutput',
  'SyslogNGFlow',
  'Certificate',
  'DomainMapping',
  'CNAMERecord',
] as const;
export type PolicyChildKind = (typeof POLICY_CHILD_KINDS)[number];

export const GC_STRATEGIES = ['onUpdate', 'onCappDelete', 'never'] as const;
export type GcStrategy = (typeof GC_STRATEGIES)[number];
export const TAKE_OVER = ['refuse', 'adopt'] as const;
export type TakeOver = (typeof TAKE_OVER)[number];

export interface ResourceSelector {
  kinds?: PolicyChildKind[];
  names?: string[];
}

export interface ResourcePolicy {
  garbageCollect?: { rules?: Array<{ selector: ResourceSelector; strategy: GcStrategy }> };
  applyOnce?: { enabled?: boolean; rules?: Array<{ selector: ResourceSelector; paths: string[] }> };
  stateKeep?: boolean;
  takeOver?: TakeOver;
}

/** `spec.template.spec.containers[*].resources`: fields, `[*]` for every item, `[N]` for one. */
export const POLICY_PATH_PATTERN =
  '^[A-Za-z0-9_-]+(\\[(\\*|[0-9]+)\\])*(\\.[A-Za-z0-9_-]+(\\[(\\*|[0-9]+)\\])*)*$';

const selector = s.object({
  description: 'Which children: of these kinds (any when empty) and these names (any when empty).',
  properties: {
    kinds: s.array({ items: s.string({ enum: POLICY_CHILD_KINDS }), maxItems: 16 }),
    names: s.array({ items: s.string({ minLength: 1, maxLength: 253 }), maxItems: 64 }),
  },
});

export const resourcePolicySchema: ObjectNode = s.object({
  description:
    "The life-cycle of the Capp's children (garbage collection, apply-once, drift correction, take-over); platform defaults in the ConfigMap capp-resource-policy.",
  properties: {
    garbageCollect: s.object({
      properties: {
        rules: s.array({
          maxItems: 32,
          items: s.object({
            required: ['selector', 'strategy'],
            properties: {
              selector,
              strategy: s.string({
                enum: GC_STRATEGIES,
                description:
                  'onUpdate: deleted once no longer rendered (default); onCappDelete: kept until the Capp is deleted; never: orphaned on Capp deletion, adopted again by a Capp of the same name.',
              }),
            },
          }),
        }),
      },
    }),
    applyOnce: s.object({
      properties: {
        enabled: s.boolean({
          description: 'Without rules: a child is applied once per Capp generation and never corrected.',
        }),
        rules: s.array({
          maxItems: 32,
          items: s.object({
            required: ['selector', 'paths'],
            properties: {
              selector,
              paths: s.array({
                minItems: 1,
                maxItems: 32,
                items: s.string({
                  pattern: {
                    regex: POLICY_PATH_PATTERN,
                    message: 'must be a field path such as spec.template.spec.containers[*].resources',
                  },
                }),
                description: 'After the first apply, the live values at these paths are kept.',
              }),
            },
          }),
        }),
      },
    }),
    stateKeep: s.boolean({ description: 'Correct hand edits of the children (default true).' }),
    takeOver: s.string({
      enum: TAKE_OVER,
      description:
        "A child that exists and is not this Capp's: refuse (default; a False condition names it and its managers) or adopt it.",
    }),
  },
});

/** The ConfigMap of the platform-wide defaults, in the operator's namespace (key `policy`, YAML). */
export const RESOURCE_POLICY_CONFIGMAP = 'capp-resource-policy';
export const RESOURCE_POLICY_KEY = 'policy';
