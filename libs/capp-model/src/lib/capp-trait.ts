import { CAPP_API_VERSION } from './constants';
import type { LabelSelector } from './label-selector';
import { s } from './schema/nodes';
import { validateNode, ValidationIssue } from './schema/validate';

/** A platform team's patch trait (DESIGN §8): cluster-scoped, used by Capps through `spec.traits`. */
export const CAPP_TRAIT_KIND = 'CappTrait' as const;
export const CAPP_TRAIT_PLURAL = 'capptraits';
export const CAPP_TRAIT_SINGULAR = 'capptrait';
export const CAPP_TRAIT_SHORT_NAMES = ['ctrait'] as const;
export const CAPP_TRAIT_CRD_NAME = `${CAPP_TRAIT_PLURAL}.rcs.dana.io`;

/** How a trait's patch is merged into a child. */
export type TraitPatchType = 'strategic' | 'merge' | 'json';
export const TRAIT_PATCH_TYPES: readonly TraitPatchType[] = ['strategic', 'merge', 'json'];

/** The Knative Service: what a trait patches when it names nothing else. */
export const DEFAULT_TRAIT_APPLIES_TO = 'services.serving.knative.dev';

export interface TraitHttpProcessing {
  /** A template (JSONata) giving the URL, from `parameter` and `context`. */
  url: string;
  /** Header name → template (JSONata) giving its value. */
  headers?: Record<string, string>;
  timeoutSeconds?: number;
  /** How long an answer is reused for the same trait and parameters. */
  ttlSeconds?: number;
}

export type CappTraitSpec = {
  description?: string;
  /** The child kinds patched, as `<plural>.<group>` (`services.serving.knative.dev`), or `*`. */
  appliesTo?: string[];
  /** A change of this trait restarts the app's pods. */
  podDisruptive?: boolean;
  /** A JSON Schema of the properties, with defaults. */
  parameters?: Record<string, unknown>;
  /** A JSONata template giving the patch, merged as `type` says (default strategic). */
  patch?: { type?: TraitPatchType; template: string };
  /** Extra children, each a JSONata template giving a whole object. */
  outputs?: Array<{ name: string; template: string }>;
  /** A value fetched when rendering (`processing.output` in the templates). */
  processing?: { http: TraitHttpProcessing };
  /** Applied to every Capp in the namespaces selected, with these properties. */
  autoApply?: { namespaceSelector: LabelSelector; properties?: Record<string, unknown> };
};

export type CappTrait = {
  apiVersion: typeof CAPP_API_VERSION;
  kind: typeof CAPP_TRAIT_KIND;
  metadata: { name: string; generation?: number; [key: string]: unknown };
  spec: CappTraitSpec;
  status?: Record<string, unknown>;
};

const template = (description: string) => s.string({ description, minLength: 1 });

const labelSelector = s.object({
  description: 'A Kubernetes label selector over the Namespace labels.',
  properties: {
    matchLabels: s.map({ values: s.string() }),
    matchExpressions: s.array({
      items: s.object({
        required: ['key', 'operator'],
        properties: {
          key: s.string({ minLength: 1 }),
          operator: s.string({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: s.array({ items: s.string() }),
        },
      }),
    }),
  },
});

/** The CappTrait spec schema: the CRD's, and the structural half of `validateCappTrait`. */
export const cappTraitSpecSchema = s.object({
  description: 'A patch trait: what it patches, its parameters and the template of the patch.',
  properties: {
    description: s.string({ description: 'What the trait does, for app teams.' }),
    appliesTo: s.array({
      description:
        'Child kinds patched, as <plural>.<group> (services.serving.knative.dev, the default), or "*".',
      items: s.string({
        minLength: 1,
        pattern: {
          regex: '^(\\*|[a-z0-9]+(\\.[a-z0-9-]+)*)$',
          message: 'must be <plural>.<group> such as services.serving.knative.dev, or "*"',
        },
      }),
    }),
    podDisruptive: s.boolean({ description: 'A change of this trait restarts the pods.' }),
    parameters: s.opaque({ description: 'A JSON Schema (draft 2020-12) of the properties, with defaults.' }),
    patch: s.object({
      required: ['template'],
      properties: {
        type: s.string({ enum: TRAIT_PATCH_TYPES, default: 'strategic' }),
        template: template('A JSONata expression over parameter, context and processing giving the patch.'),
      },
    }),
    outputs: s.array({
      description: 'Extra children, inventoried, pruned and cleaned up like the others.',
      mapKeys: ['name'],
      items: s.object({
        required: ['name', 'template'],
        properties: {
          name: s.string({ minLength: 1, maxLength: 63 }),
          template: template('A JSONata expression giving the whole object.'),
        },
      }),
    }),
    processing: s.object({
      properties: {
        http: s.object({
          required: ['url'],
          properties: {
            url: template('A JSONata expression giving the URL (GET); its host must be allowed.'),
            headers: s.map({ values: s.string() }),
            timeoutSeconds: s.integer({ minimum: 1, maximum: 60 }),
            ttlSeconds: s.integer({ minimum: 0 }),
          },
        }),
      },
    }),
    autoApply: s.object({
      required: ['namespaceSelector'],
      properties: {
        namespaceSelector: labelSelector,
        properties: s.opaque({ description: 'The properties used where the trait is auto-applied.' }),
      },
    }),
  },
});

export const cappTraitSchema = s.object({
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: s.string({ enum: [CAPP_API_VERSION] }),
    kind: s.string({ enum: [CAPP_TRAIT_KIND] }),
    metadata: s.object({
      preserveUnknownFields: true,
      required: ['name'],
      properties: { name: s.string({ minLength: 1 }) },
    }),
    spec: cappTraitSpecSchema,
    status: s.opaque(),
  },
});

/** The structure of a CappTrait (templates and the JSON Schema are checked by `@capp/knative-adapter`). */
export function validateCappTraitShape(obj: unknown): ValidationIssue[] {
  return validateNode(cappTraitSchema, obj, '');
}

/** The `<plural>.<group>` a trait names a kind by. */
export function traitKindName(type: { apiVersion: string; plural: string }): string {
  const group = type.apiVersion.includes('/') ? type.apiVersion.split('/')[0] : '';
  return group ? `${type.plural}.${group}` : type.plural;
}
