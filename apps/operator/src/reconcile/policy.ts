import {
  type GcStrategy,
  isPlainObject,
  type ResourcePolicy,
  resourcePolicySchema,
  type ResourceSelector,
  type TakeOver,
  validateNode,
} from '@capp/capp-model';
import { ConfigError, type ConfigMapLike } from '@capp/knative-adapter';
import { parse } from 'yaml';

/** The child a policy rule is asked about. */
export interface PolicyTarget {
  kind: string;
  name: string;
}

/** What applies to each child of one Capp: its own `spec.resourcePolicy` over the platform's. */
export interface EffectivePolicy {
  gc(child: PolicyTarget): GcStrategy;
  /** undefined: applied as rendered; 'whole': once per Capp generation; paths: live values kept there. */
  applyOnce(child: PolicyTarget): 'whole' | string[] | undefined;
  readonly stateKeep: boolean;
  readonly takeOver: TakeOver;
}

const matches = (selector: ResourceSelector | undefined, child: PolicyTarget): boolean =>
  (!selector?.kinds?.length || (selector.kinds as string[]).includes(child.kind)) &&
  (!selector?.names?.length || selector.names.includes(child.name));

/** The Capp's rules first, then the platform's; the first whose selector matches decides. */
export function resolvePolicy(
  own: ResourcePolicy | undefined,
  platform: ResourcePolicy | undefined,
): EffectivePolicy {
  const gcRules = [...(own?.garbageCollect?.rules ?? []), ...(platform?.garbageCollect?.rules ?? [])];
  const onceRules = [...(own?.applyOnce?.rules ?? []), ...(platform?.applyOnce?.rules ?? [])];
  const onceEnabled = own?.applyOnce?.enabled ?? platform?.applyOnce?.enabled ?? false;
  return {
    gc: (child) => gcRules.find((r) => matches(r.selector, child))?.strategy ?? 'onUpdate',
    applyOnce: (child) => {
      if (!onceEnabled) return undefined;
      if (onceRules.length === 0) return 'whole';
      const paths = onceRules.filter((r) => matches(r.selector, child)).flatMap((r) => r.paths);
      return paths.length > 0 ? paths : undefined;
    },
    stateKeep: own?.stateKeep ?? platform?.stateKeep ?? true,
    takeOver: own?.takeOver ?? platform?.takeOver ?? 'refuse',
  };
}

/**
 * The platform defaults: key `policy` of the ConfigMap `capp-resource-policy`, YAML in the shape of
 * `spec.resourcePolicy`, validated by the same schema; absent = no defaults.
 */
export function parsePlatformPolicy(cm: ConfigMapLike | undefined): ResourcePolicy | undefined {
  const text = cm?.data?.['policy'];
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? '';
    throw new ConfigError(`policy is not YAML: ${message}`, 'capp-resource-policy', 'policy');
  }
  if (!isPlainObject(value))
    throw new ConfigError('policy must be a mapping', 'capp-resource-policy', 'policy');
  const issues = validateNode(resourcePolicySchema, value, 'policy');
  if (issues.length > 0)
    throw new ConfigError(
      issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      'capp-resource-policy',
      'policy',
    );
  return value as ResourcePolicy;
}

type Json = unknown;
const SEGMENT = /^([^[\]]+)((?:\[(?:\*|\d+)\])*)$/;

/** Expands a policy path (`a.b[*].c`) against `obj` into the concrete paths (arrays of keys) it names. */
export function expandPath(obj: Json, path: string): (string | number)[][] {
  let frontier: { at: Json; keys: (string | number)[] }[] = [{ at: obj, keys: [] }];
  for (const segment of path.split('.')) {
    const m = SEGMENT.exec(segment);
    if (!m) return [];
    const field = m[1] as string;
    const indexes = [...(m[2] ?? '').matchAll(/\[(\*|\d+)\]/g)].map((x) => x[1] as string);
    const next: typeof frontier = [];
    for (const f of frontier) {
      if (!isPlainObject(f.at) || !(field in f.at)) continue;
      let items = [{ at: f.at[field], keys: [...f.keys, field] as (string | number)[] }];
      for (const index of indexes) {
        items = items.flatMap((it) => {
          if (!Array.isArray(it.at)) return [];
          if (index === '*') return it.at.map((v, i) => ({ at: v as Json, keys: [...it.keys, i] }));
          const i = Number(index);
          return i < it.at.length ? [{ at: it.at[i] as Json, keys: [...it.keys, i] }] : [];
        });
      }
      next.push(...items);
    }
    frontier = next;
  }
  return frontier.map((f) => f.keys);
}

function getAt(obj: Json, keys: (string | number)[]): Json {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, Json>)[k];
  }
  return cur;
}

/** Sets `value` at `keys` when the parent exists in `obj` (a list item the render no longer has is skipped). */
function setAt(obj: Json, keys: (string | number)[], value: Json): void {
  const parent = getAt(obj, keys.slice(0, -1));
  const last = keys[keys.length - 1] as string | number;
  if (Array.isArray(parent) ? typeof last === 'number' && last < parent.length : isPlainObject(parent))
    (parent as Record<string | number, Json>)[last] = structuredClone(value);
}

/**
 * The render with the live object's values at the apply-once paths: what another field manager (an
 * HPA, a VPA, a person) set there is applied back as it is, so server-side apply neither removes it
 * nor fights it.
 */
export function withLiveValues<T extends object>(desired: T, live: Json, paths: readonly string[]): T {
  const out = structuredClone(desired);
  for (const path of paths) for (const keys of expandPath(live, path)) setAt(out, keys, getAt(live, keys));
  return out;
}
