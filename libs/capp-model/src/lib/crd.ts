import { stringify } from 'yaml';

import { cappNameRule, cappSpecSchema, cappStatusSchema } from './capp.schema';
import {
  CAPP_TRAIT_CRD_NAME,
  CAPP_TRAIT_KIND,
  CAPP_TRAIT_PLURAL,
  CAPP_TRAIT_SHORT_NAMES,
  CAPP_TRAIT_SINGULAR,
  cappTraitSpecSchema,
} from './capp-trait';
import {
  CAPP_CRD_NAME,
  CAPP_GROUP,
  CAPP_KIND,
  CAPP_PLURAL,
  CAPP_REVISION_CRD_NAME,
  CAPP_REVISION_KIND,
  CAPP_REVISION_PLURAL,
  CAPP_REVISION_SINGULAR,
  CAPP_SHORT_NAMES,
  CAPP_SINGULAR,
  CAPP_VERSION,
  HEALTHSCOPE_CRD_NAME,
  HEALTHSCOPE_KIND,
  HEALTHSCOPE_PLURAL,
  HEALTHSCOPE_SHORT_NAMES,
  HEALTHSCOPE_SINGULAR,
} from './constants';
import { healthScopeSpecSchema, healthScopeStatusSchema } from './healthscope.schema';
import { toOpenApi } from './schema/openapi';

interface CrdShape {
  name: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames?: readonly string[];
  /** Default Namespaced. */
  scope?: 'Namespaced' | 'Cluster';
  printerColumns: Array<Record<string, string>>;
  schema: Record<string, unknown>;
}

/** The envelope every CRD of ours shares: group, one served and stored version, a status subresource. */
function crdOf(c: CrdShape): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: c.name, labels: { 'app.kubernetes.io/part-of': 'capp-platform' } },
    spec: {
      group: CAPP_GROUP,
      names: {
        kind: c.kind,
        listKind: `${c.kind}List`,
        plural: c.plural,
        singular: c.singular,
        ...(c.shortNames ? { shortNames: [...c.shortNames] } : {}),
      },
      scope: c.scope ?? 'Namespaced',
      versions: [
        {
          name: CAPP_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: c.printerColumns,
          schema: { openAPIV3Schema: c.schema },
        },
      ],
    },
  };
}

/** A resource's top-level schema: the type meta, metadata, and its spec and status. */
function resourceSchema(
  description: string,
  spec: unknown,
  status: unknown,
  { specRequired = true }: { specRequired?: boolean } = {},
): Record<string, unknown> {
  return {
    description,
    type: 'object',
    ...(specRequired ? { required: ['spec'] } : {}),
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec,
      status,
    },
  };
}

/** The CustomResourceDefinition of Capp, generated from the schema (committed under charts/). */
export function buildCappCrd(): Record<string, unknown> {
  return crdOf({
    name: CAPP_CRD_NAME,
    kind: CAPP_KIND,
    plural: CAPP_PLURAL,
    singular: CAPP_SINGULAR,
    shortNames: CAPP_SHORT_NAMES,
    printerColumns: [
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      { name: 'Metric', type: 'string', jsonPath: '.spec.scaleMetric' },
      { name: 'State', type: 'string', jsonPath: '.spec.state' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema: {
      ...resourceSchema(
        'Capp (ContainerApp): an app described once; the platform creates what it needs.',
        toOpenApi(cappSpecSchema),
        toOpenApi(cappStatusSchema),
      ),
      'x-kubernetes-validations': [{ rule: cappNameRule.cel, message: cappNameRule.message }],
    },
  });
}

/**
 * The CustomResourceDefinition of CappRevision: v0.3.5's shape (`spec.revisionNumber`,
 * `spec.cappTemplate.{cappSpec, labels, annotations}`), the Capp's spec schema inside.
 */
export function buildCappRevisionCrd(): Record<string, unknown> {
  const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
  return crdOf({
    name: CAPP_REVISION_CRD_NAME,
    kind: CAPP_REVISION_KIND,
    plural: CAPP_REVISION_PLURAL,
    singular: CAPP_REVISION_SINGULAR,
    printerColumns: [
      { name: 'Revision', type: 'integer', jsonPath: '.spec.revisionNumber' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema: resourceSchema(
      'CappRevision: a Capp as it was (spec, labels, annotations), kept by the operator for ' +
        'kubectl users; at most 10 per Capp, labelled rcs.dana.io/cappName=<capp>.',
      {
        type: 'object',
        required: ['cappTemplate', 'revisionNumber'],
        properties: {
          revisionNumber: {
            description: 'The revision number: 1 for the Capp as created, then one more per change.',
            type: 'integer',
          },
          cappTemplate: {
            description: 'The Capp at this revision.',
            type: 'object',
            properties: {
              cappSpec: toOpenApi(cappSpecSchema),
              labels: { ...stringMap, description: "The Capp's labels." },
              annotations: { ...stringMap, description: "The Capp's annotations." },
            },
          },
        },
      },
      { type: 'object' },
      { specRequired: false },
    ),
  });
}

/**
 * The CustomResourceDefinition of HealthScope (DESIGN §10): `kubectl get hs` shows the health and
 * how many members are healthy.
 */
export function buildHealthScopeCrd(): Record<string, unknown> {
  return crdOf({
    name: HEALTHSCOPE_CRD_NAME,
    kind: HEALTHSCOPE_KIND,
    plural: HEALTHSCOPE_PLURAL,
    singular: HEALTHSCOPE_SINGULAR,
    shortNames: HEALTHSCOPE_SHORT_NAMES,
    printerColumns: [
      { name: 'Health', type: 'string', jsonPath: '.status.health' },
      { name: 'Healthy', type: 'integer', jsonPath: '.status.healthy' },
      { name: 'Total', type: 'integer', jsonPath: '.status.total' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema: resourceSchema(
      'HealthScope: the aggregated health of a group of Capps (by name and/or label selector), ' +
        "evaluated by the operator, optionally with an HTTP probe against each Capp's own URL.",
      toOpenApi(healthScopeSpecSchema),
      toOpenApi(healthScopeStatusSchema),
    ),
  });
}

/** The CustomResourceDefinition of CappTrait (cluster-scoped, `kubectl get ctrait`). */
export function buildCappTraitCrd(): Record<string, unknown> {
  return crdOf({
    name: CAPP_TRAIT_CRD_NAME,
    kind: CAPP_TRAIT_KIND,
    plural: CAPP_TRAIT_PLURAL,
    singular: CAPP_TRAIT_SINGULAR,
    shortNames: CAPP_TRAIT_SHORT_NAMES,
    scope: 'Cluster',
    printerColumns: [
      { name: 'Applies-To', type: 'string', jsonPath: '.spec.appliesTo' },
      { name: 'Pod-Disruptive', type: 'boolean', jsonPath: '.spec.podDisruptive' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema: resourceSchema(
      'CappTrait: a patch trait platform teams define and Capps use by name in spec.traits (or get ' +
        'through autoApply): a JSON Schema of parameters, a JSONata template of the patch, extra outputs.',
      toOpenApi(cappTraitSpecSchema),
      { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    ),
  });
}

const GENERATED_HEADER = '# Generated by `npm run crd:generate` from libs/capp-model. Do not edit.\n';

/** Relative path (from the repository root) of the committed, generated CRD file. */
export const CAPP_CRD_FILE = `charts/capp-platform/crds/${CAPP_CRD_NAME}.yaml`;
export const CAPP_REVISION_CRD_FILE = `charts/capp-platform/crds/${CAPP_REVISION_CRD_NAME}.yaml`;
export const HEALTHSCOPE_CRD_FILE = `charts/capp-platform/crds/${HEALTHSCOPE_CRD_NAME}.yaml`;
export const CAPP_TRAIT_CRD_FILE = `charts/capp-platform/crds/${CAPP_TRAIT_CRD_NAME}.yaml`;

/** The CRD file's exact text: a header plus YAML. */
export function cappCrdYaml(): string {
  return `${GENERATED_HEADER}${stringify(buildCappCrd(), { lineWidth: 0 })}`;
}

/** Every CRD the platform ships (the chart's `crds/`), with the path of its committed file and its text. */
export function platformCrds(): Array<{ file: string; crd: Record<string, unknown>; yaml: string }> {
  return [
    { file: CAPP_CRD_FILE, crd: buildCappCrd(), yaml: cappCrdYaml() },
    {
      file: CAPP_REVISION_CRD_FILE,
      crd: buildCappRevisionCrd(),
      yaml: `${GENERATED_HEADER}${stringify(buildCappRevisionCrd(), { lineWidth: 0 })}`,
    },
    {
      file: HEALTHSCOPE_CRD_FILE,
      crd: buildHealthScopeCrd(),
      yaml: `${GENERATED_HEADER}${stringify(buildHealthScopeCrd(), { lineWidth: 0 })}`,
    },
    {
      file: CAPP_TRAIT_CRD_FILE,
      crd: buildCappTraitCrd(),
      yaml: `${GENERATED_HEADER}${stringify(buildCappTraitCrd(), { lineWidth: 0 })}`,
    },
  ];
}
