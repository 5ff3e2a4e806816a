import {
  AppliedTrait,
  Capp,
  CappTrait,
  DEFAULT_TRAIT_APPLIES_TO,
  isPlainObject,
  KubeObject,
  LABEL_MANAGED_BY,
  LABEL_PARENT_CAPP,
  matchesLabelSelector,
  traitKindName,
  validateCappTraitShape,
  ValidationIssue,
} from '@capp/capp-model';

import { childMetadata } from '../meta';
import { cappName } from '../names';
import {
  CERTIFICATE,
  CHILD_KINDS,
  ChildKind,
  CNAME_RECORD,
  DOMAIN_MAPPING,
  KNATIVE_SERVICE,
  LOGGING_KINDS,
  NFS_PVC,
} from '../resources';
import { DesiredChild } from '../types';
import { parametersSchemaProblem, resolveProperties } from './parameters';
import { jsonMergePatch, jsonPatch, Ledger, PatchError, strategicMerge } from './patch';
import { evaluateTemplate, TemplateError, templateProblem } from './template';

/** A core Service: what the `expose` trait outputs. */
export const CORE_SERVICE: ChildKind = {
  apiVersion: 'v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
};

/** Kinds a trait output may be: the Capp's child kinds and core Services (the operator watches these). */
export const TRAIT_OUTPUT_KINDS: readonly ChildKind[] = [...CHILD_KINDS, CORE_SERVICE];

/** Why traits could not be applied; the operator reports it as the Capp's Ready condition. */
export type TraitFailureReason =
  'TraitNotFound' | 'InvalidTraitProperties' | 'TraitConflict' | 'TraitFailed' | 'TraitProcessingFailed';

export class TraitError extends Error {
  override readonly name = 'TraitError';

  constructor(
    readonly reason: TraitFailureReason,
    message: string,
    /** A processing failure may heal by itself (retried with backoff); the others need a change. */
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** One trait in effect on a Capp, with its properties (defaults filled in). */
export interface TraitUse {
  trait: CappTrait;
  properties: Record<string, unknown>;
  autoApplied: boolean;
  /** Who the ledger names: `trait "sidecar"`. */
  source: string;
}

/** A GET that `processing.http` asks for; the operator's port answers it (allow-list, timeout, cache). */
export interface TraitHttpRequest {
  trait: string;
  url: string;
  headers: Record<string, string>;
  timeoutSeconds?: number;
  ttlSeconds?: number;
}

export interface TraitInput {
  capp: Capp;
  /** What the Capp renders into (`renderChildren`). */
  children: readonly DesiredChild[];
  /** The CappTraits by name. */
  lookup: (name: string) => CappTrait | undefined;
  /** CappTraits whose `autoApply.namespaceSelector` selects the Capp's namespace. */
  autoApplied?: readonly CappTrait[];
  /** Answers `processing.http`; without it (the CLI, offline) such a trait fails. */
  fetch?: (request: TraitHttpRequest) => Promise<unknown>;
}

export interface TraitResult {
  /** The patched children, then the traits' outputs, in apply order. */
  children: DesiredChild[];
  /** What is in effect, for the Capp's status (empty without traits). */
  applied: AppliedTrait[];
}

/** The traits of `all` whose `autoApply.namespaceSelector` selects a namespace with these labels. */
export function autoAppliedTraits(
  all: readonly CappTrait[],
  namespaceLabels: Record<string, string> | undefined,
): CappTrait[] {
  if (!namespaceLabels) return [];
  return all
    .filter(
      (t) => t.spec.autoApply && matchesLabelSelector(t.spec.autoApply.namespaceSelector, namespaceLabels),
    )
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

/** True when the Capp uses the trait in `spec.traits`. */
export function usesTrait(capp: Capp, name: string): boolean {
  return (capp.spec.traits ?? []).some((t) => t.type === name);
}

const kindNames = (t: CappTrait): string[] => t.spec.appliesTo ?? [DEFAULT_TRAIT_APPLIES_TO];

const KNOWN_KIND_NAMES = new Set(TRAIT_OUTPUT_KINDS.map(traitKindName));

/** `apiVersion/kind` → `<plural>.<group>`, for the kinds a trait may name. */
const KIND_NAME_OF = new Map(TRAIT_OUTPUT_KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, traitKindName(k)]));

function applies(trait: CappTrait, child: { apiVersion: string; kind: string }): boolean {
  const names = kindNames(trait);
  if (names.includes('*')) return true;
  const name = KIND_NAME_OF.get(`${child.apiVersion}/${child.kind}`);
  return name !== undefined && names.includes(name);
}

/**
 * The kinds this Capp may turn into, whatever its state and the platform's logging backend: a trait
 * must apply to one of them (a disabled Capp keeps its Knative Service's traits).
 */
export function possibleChildKinds(capp: Capp): ChildKind[] {
  const kinds: ChildKind[] = [KNATIVE_SERVICE];
  if (capp.spec.volumesSpec?.nfsVolumes?.length) kinds.push(NFS_PVC);
  if (capp.spec.logSpec?.type) kinds.push(...LOGGING_KINDS.fluentd, ...LOGGING_KINDS['syslog-ng']);
  if (capp.spec.routeSpec?.hostname) {
    if (capp.spec.routeSpec.tlsEnabled) kinds.push(CERTIFICATE);
    kinds.push(DOMAIN_MAPPING, CNAME_RECORD);
  }
  return kinds;
}

/**
 * The traits in effect on a Capp, in the order they apply: those auto-applied to its namespace (by
 * name) that it does not list itself, then its own `spec.traits`. Problems name the field.
 */
export function resolveTraitUses(
  capp: Capp,
  lookup: (name: string) => CappTrait | undefined,
  autoApplied: readonly CappTrait[] = [],
): { uses: TraitUse[]; issues: ValidationIssue[]; missing: string[] } {
  const uses: TraitUse[] = [];
  const issues: ValidationIssue[] = [];
  const missing: string[] = [];
  const own = capp.spec.traits ?? [];
  const counts = new Map<string, number>();
  for (const t of own) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  for (const trait of autoApplied) {
    if (counts.has(trait.metadata.name)) continue;
    const base = `autoApply(${trait.metadata.name}).properties`;
    const r = resolveProperties(trait.spec.parameters, trait.spec.autoApply?.properties, base);
    issues.push(...r.issues);
    uses.push({
      trait,
      properties: r.properties,
      autoApplied: true,
      source: `trait "${trait.metadata.name}" (auto-applied)`,
    });
  }
  own.forEach((ref, i) => {
    const trait = lookup(ref.type);
    if (!trait) {
      missing.push(ref.type);
      issues.push({
        path: `spec.traits[${i}].type`,
        rule: 'traitExists',
        message: `no CappTrait "${ref.type}" exists`,
      });
      return;
    }
    const r = resolveProperties(trait.spec.parameters, ref.properties, `spec.traits[${i}].properties`);
    issues.push(...r.issues);
    const source =
      (counts.get(ref.type) ?? 0) > 1 ? `trait "${ref.type}" (spec.traits[${i}])` : `trait "${ref.type}"`;
    uses.push({ trait, properties: r.properties, autoApplied: false, source });
  });
  return { uses, issues, missing };
}

/**
 * What an admission (or `capp validate --traits`) checks of a Capp's traits: each exists, its
 * properties are valid against its schema, and it applies to a child the Capp has.
 */
export function validateCappTraits(
  capp: Capp,
  lookup: (name: string) => CappTrait | undefined,
): ValidationIssue[] {
  const { issues } = resolveTraitUses(capp, lookup);
  const kinds = possibleChildKinds(capp);
  (capp.spec.traits ?? []).forEach((ref, i) => {
    const trait = lookup(ref.type);
    if (!trait?.spec.patch) return;
    if (!kinds.some((k) => applies(trait, k)))
      issues.push({
        path: `spec.traits[${i}].type`,
        rule: 'traitAppliesTo',
        message: `CappTrait "${ref.type}" applies to ${kindNames(trait).join(', ')}, which this Capp does not have`,
      });
  });
  return issues;
}

/** Everything wrong with a CappTrait: its shape, its JSON Schema, its templates, its kinds. */
export function validateCappTrait(obj: unknown): ValidationIssue[] {
  const issues = validateCappTraitShape(obj);
  if (issues.length || !isPlainObject(obj)) return issues;
  const trait = obj as unknown as CappTrait;
  const spec = trait.spec;
  const schema = parametersSchemaProblem(spec.parameters);
  if (schema) issues.push({ path: 'spec.parameters', rule: 'jsonSchema', message: schema });
  const tpl = (path: string, text: string | undefined): void => {
    const problem = text === undefined ? undefined : templateProblem(text);
    if (problem) issues.push({ path, rule: 'template', message: problem });
  };
  tpl('spec.patch.template', spec.patch?.template);
  spec.outputs?.forEach((o, i) => tpl(`spec.outputs[${i}].template`, o.template));
  tpl('spec.processing.http.url', spec.processing?.http.url);
  for (const [h, text] of Object.entries(spec.processing?.http.headers ?? {}))
    tpl(`spec.processing.http.headers.${h}`, text);
  (spec.appliesTo ?? []).forEach((name, i) => {
    if (name !== '*' && !KNOWN_KIND_NAMES.has(name))
      issues.push({
        path: `spec.appliesTo[${i}]`,
        rule: 'knownKind',
        message: `"${name}" is not a kind a Capp turns into (${[...KNOWN_KIND_NAMES].join(', ')})`,
      });
  });
  if (!spec.patch && !spec.outputs?.length)
    issues.push({ path: 'spec', rule: 'patchOrOutputs', message: 'a trait needs a patch or outputs' });
  if (spec.autoApply && spec.parameters) {
    const r = resolveProperties(spec.parameters, spec.autoApply.properties, 'spec.autoApply.properties');
    issues.push(...r.issues);
  }
  return issues;
}

/**
 * Compiles what applying `trait` takes — its parameters' JSON Schema validator and its templates —
 * into the caches they are looked up in (by the very schema object, then by text), and returns what is
 * wrong with it ({@link validateCappTrait}). The operator calls it when a CappTrait (or a new version
 * of one) enters its cache: compiling a schema takes milliseconds to tens of milliseconds of the one
 * thread, which would otherwise fall on the first reconciles of its users, all waiting behind it.
 * Never throws.
 */
export function prepareTrait(trait: CappTrait): ValidationIssue[] {
  try {
    return validateCappTrait(trait);
  } catch (err) {
    return [{ path: 'spec', rule: 'prepare', message: (err as Error).message }];
  }
}

/** What templates read as `context`. */
export function traitContext(capp: Capp): Record<string, unknown> {
  const name = cappName(capp);
  return {
    name,
    appName: name,
    namespace: capp.metadata.namespace,
    revision: capp.metadata.generation,
    hostname: capp.spec.routeSpec?.hostname,
    labels: capp.metadata.labels ?? {},
    annotations: capp.metadata.annotations ?? {},
    image: capp.spec.configurationSpec.template.spec.containers[0]?.image,
    containerName: capp.spec.configurationSpec.template.spec.containers[0]?.name,
  };
}

const refOf = (o: KubeObject): string =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

const identity = (o: KubeObject): string =>
  JSON.stringify([
    o.apiVersion,
    o.kind,
    o.metadata.name,
    o.metadata.namespace,
    o.metadata.labels?.[LABEL_PARENT_CAPP],
    o.metadata.labels?.[LABEL_MANAGED_BY],
  ]);

async function processingOutput(
  use: TraitUse,
  input: TraitInput,
  base: Record<string, unknown>,
): Promise<unknown> {
  const http = use.trait.spec.processing?.http;
  if (!http) return undefined;
  const name = use.trait.metadata.name;
  if (!input.fetch)
    throw new TraitError(
      'TraitProcessingFailed',
      `trait "${name}": processing.http needs the operator (offline)`,
    );
  let url: unknown;
  const headers: Record<string, string> = {};
  try {
    url = await evaluateTemplate(http.url, base);
    for (const [h, text] of Object.entries(http.headers ?? {})) {
      const value = await evaluateTemplate(text, base);
      if (value !== undefined && value !== null) headers[h] = String(value);
    }
  } catch (err) {
    throw new TraitError('TraitFailed', `trait "${name}": processing.http: ${(err as Error).message}`);
  }
  if (typeof url !== 'string')
    throw new TraitError('TraitFailed', `trait "${name}": processing.http.url is not a string`);
  try {
    return await input.fetch({
      trait: name,
      url,
      headers,
      timeoutSeconds: http.timeoutSeconds,
      ttlSeconds: http.ttlSeconds,
    });
  } catch (err) {
    if (err instanceof TraitError) throw err;
    throw new TraitError(
      'TraitProcessingFailed',
      `trait "${name}": processing.http: ${(err as Error).message}`,
      true,
    );
  }
}

async function patchOne(
  child: KubeObject,
  use: TraitUse,
  base: Record<string, unknown>,
  ledger: Ledger,
): Promise<KubeObject> {
  const patch = use.trait.spec.patch;
  if (!patch) return child;
  const context = {
    ...(base['context'] as Record<string, unknown>),
    kind: child.kind,
    apiVersion: child.apiVersion,
    childName: child.metadata.name,
  };
  const value = await evaluateTemplate(patch.template, { ...base, context });
  if (value === undefined || value === null) return child; // a conditional patch that does not apply here
  const type = patch.type ?? 'strategic';
  const doc = child as unknown as Record<string, unknown>;
  const out =
    type === 'json'
      ? jsonPatch(doc, value, ledger, use.source)
      : type === 'merge'
        ? jsonMergePatch(doc, value, ledger, use.source)
        : strategicMerge(doc, value, child, ledger, use.source);
  const patched = out as unknown as KubeObject;
  if (!isPlainObject(patched['metadata']) || identity(patched) !== identity(child))
    throw new PatchError(
      'a trait may not change what the child is (apiVersion, kind, name, namespace, platform labels)',
      refOf(child),
    );
  return patched;
}

async function outputsOf(capp: Capp, use: TraitUse, base: Record<string, unknown>): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const o of use.trait.spec.outputs ?? []) {
    const value = await evaluateTemplate(o.template, base);
    if (value === undefined || value === null) continue; // a conditional output
    if (!isPlainObject(value)) throw new PatchError('must give an object', `outputs[${o.name}]`);
    const type = TRAIT_OUTPUT_KINDS.find(
      (k) => k.apiVersion === value['apiVersion'] && k.kind === value['kind'],
    );
    if (!type || !type.namespaced)
      throw new PatchError(
        `${String(value['apiVersion'])} ${String(value['kind'])} is not a kind a trait may output (${TRAIT_OUTPUT_KINDS.filter(
          (k) => k.namespaced,
        )
          .map(traitKindName)
          .join(', ')})`,
        `outputs[${o.name}]`,
      );
    const meta = isPlainObject(value['metadata']) ? value['metadata'] : {};
    const name = typeof meta['name'] === 'string' ? meta['name'] : `${cappName(capp)}-${o.name}`;
    const standard = childMetadata(capp, name, {
      labels: meta['labels'] as Record<string, string> | undefined,
      annotations: meta['annotations'] as Record<string, string> | undefined,
    });
    out.push({ ...value, apiVersion: type.apiVersion, kind: type.kind, metadata: standard });
  }
  return out;
}

const keyOf = (o: KubeObject): string =>
  `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * Applies the Capp's traits to its rendered children (DESIGN §8): auto-applied ones, then
 * `spec.traits`, in order; each patches the children of the kinds it applies to and may add outputs.
 * Throws a {@link TraitError} — nothing is half-applied — when a trait is missing, its properties are
 * invalid, a template or patch fails, processing fails, or a trait changes a value the Capp or an
 * earlier trait set (every conflict, with its path and both sources).
 */
export async function applyTraits(input: TraitInput): Promise<TraitResult> {
  const { capp } = input;
  const { uses, issues, missing } = resolveTraitUses(capp, input.lookup, input.autoApplied);
  if (missing.length)
    throw new TraitError('TraitNotFound', `no CappTrait ${missing.map((m) => `"${m}"`).join(', ')} exists`);
  if (issues.length)
    throw new TraitError('InvalidTraitProperties', issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  if (uses.length === 0) return { children: [...input.children], applied: [] };

  const children = [...input.children];
  const ledgers = children.map(() => new Ledger());
  const outputs: KubeObject[] = [];
  const context = traitContext(capp);
  for (const use of uses) {
    const name = use.trait.metadata.name;
    try {
      const base: Record<string, unknown> = { parameter: use.properties, context };
      const output = await processingOutput(use, input, base);
      if (output !== undefined) base['processing'] = { output };
      for (let i = 0; i < children.length; i++)
        if (applies(use.trait, children[i])) children[i] = await patchOne(children[i], use, base, ledgers[i]);
      outputs.push(...(await outputsOf(capp, use, base)));
    } catch (err) {
      if (err instanceof TraitError) throw err;
      if (err instanceof PatchError || err instanceof TemplateError)
        throw new TraitError('TraitFailed', `trait "${name}": ${err.message}`);
      throw err;
    }
  }

  const conflicts = ledgers.flatMap((l, i) =>
    l.conflicts.map(
      (c) => `${refOf(children[i])}: ${c.path} is set by ${c.first} and differently by ${c.second}`,
    ),
  );
  const seen = new Set(children.map(keyOf));
  for (const o of outputs) {
    if (seen.has(keyOf(o))) conflicts.push(`${refOf(o)}: output by more than one source`);
    seen.add(keyOf(o));
  }
  if (conflicts.length) throw new TraitError('TraitConflict', conflicts.join('; '));

  return {
    children: [...children, ...outputs],
    applied: uses.map((u) => ({
      type: u.trait.metadata.name,
      ...(u.trait.metadata.generation !== undefined ? { generation: u.trait.metadata.generation } : {}),
      ...(u.trait.spec.podDisruptive ? { podDisruptive: true } : {}),
      ...(u.autoApplied ? { autoApplied: true } : {}),
    })),
  };
}
