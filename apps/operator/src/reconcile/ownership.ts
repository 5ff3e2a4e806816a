import {
  type Capp,
  isPlainObject,
  type KubeObject,
  LABEL_MANAGED_BY,
  LABEL_PARENT_CAPP,
  LABEL_RCS_MANAGED_BY,
  MANAGED_BY_OPERATOR,
} from '@capp/capp-model';
import { LABEL_PARENT_CAPP_NAMESPACE, LABEL_PARENT_CAPP_NS, parentOf } from '@capp/knative-adapter';

/** On a child orphaned by garbage-collection strategy `never`: `<namespace>/<name>` of its Capp. */
export const ANNOTATION_ORPHANED_FROM = 'rcs.dana.io/orphaned-from';
/** The Capp generation a child was last applied at. */
export const ANNOTATION_APPLIED_GENERATION = 'rcs.dana.io/applied-generation';
/** container-app-operator v0.3.5's finalizer; replaced by ours when its Capps are taken over. */
export const V035_FINALIZER = 'dana.io/capp-cleanup';

const cappId = (capp: Capp): string => `${capp.metadata.namespace ?? ''}/${capp.metadata.name}`;

/** This Capp's child: labelled by this operator as belonging to it. */
export function isOurs(obj: KubeObject, capp: Capp): boolean {
  const parent = parentOf(obj);
  return (
    obj.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_OPERATOR &&
    parent?.name === capp.metadata.name &&
    parent.namespace === capp.metadata.namespace
  );
}

/**
 * Seen as this Capp's, and owned by it: labelled as its child, no orphan note, and any Capp
 * ownerReference carries its uid. A cached child failing this may be stale (an orphan, or the child of
 * an earlier Capp of the same name, whose new state the cache has not seen yet): read it afresh.
 */
export function isCurrentlyOurs(obj: KubeObject, capp: Capp): boolean {
  const owners = (obj.metadata.ownerReferences ?? []).filter((o) => o.kind === 'Capp');
  return (
    isOurs(obj, capp) &&
    !orphanedFrom(obj, capp) &&
    (owners.length === 0 || !capp.metadata.uid || owners.some((o) => o.uid === capp.metadata.uid))
  );
}

/** Orphaned from a Capp of this namespace and name (strategy `never`): it adopts it again. */
export const orphanedFrom = (obj: KubeObject, capp: Capp): boolean =>
  obj.metadata.annotations?.[ANNOTATION_ORPHANED_FROM] === cappId(capp);

/** The field managers of an object, for a message naming who owns what we refused to take over. */
export function managersOf(obj: KubeObject): string[] {
  const managed = (obj.metadata as { managedFields?: { manager?: string }[] }).managedFields ?? [];
  return [...new Set(managed.map((m) => m.manager ?? '?'))];
}

/**
 * The merge patch that orphans a child: our labels off, the Capp's ownerReference off (so the garbage
 * collector leaves it), and a note of where it came from (so a Capp of the same name adopts it).
 */
export function orphanPatch(live: KubeObject, capp: Capp): Record<string, unknown> {
  const labels = Object.fromEntries(
    [
      LABEL_PARENT_CAPP,
      LABEL_MANAGED_BY,
      LABEL_RCS_MANAGED_BY,
      LABEL_PARENT_CAPP_NS,
      LABEL_PARENT_CAPP_NAMESPACE,
    ]
      .filter((k) => live.metadata.labels?.[k] !== undefined)
      .map((k) => [k, null]),
  );
  const owners = (live.metadata.ownerReferences ?? []).filter((o) => o.uid !== capp.metadata.uid);
  return {
    metadata: {
      labels,
      annotations: { [ANNOTATION_ORPHANED_FROM]: cappId(capp) },
      ownerReferences: owners.length > 0 ? owners : null,
    },
  };
}

type Path = (string | number)[];
const pointer = (path: Path): string =>
  '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * The leaf paths of `spec` that only other managers' updates (not their server-side applies, not
 * ours) set, resolved against the live object (list items by their merge key), and absent from what
 * we apply: what a predecessor such as container-app-operator v0.3.5 left behind that we would
 * never remove by applying. Returned as JSON Patch remove operations, deepest and last items first.
 */
export function foreignFieldRemovals(live: KubeObject, wanted: KubeObject, ourManager: string): object[] {
  const managed =
    (
      live.metadata as {
        managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
      }
    ).managedFields ?? [];
  const foreign = new Map<string, Path>();
  const ownedByOthers = new Set<string>();
  for (const entry of managed) {
    if (entry.subresource) continue;
    const spec = isPlainObject(entry.fieldsV1) ? entry.fieldsV1['f:spec'] : undefined;
    if (!isPlainObject(spec)) continue;
    const leaves: Path[] = [];
    collectLeaves(spec, (live as { spec?: unknown }).spec, ['spec'], leaves);
    for (const leaf of leaves) {
      const key = JSON.stringify(leaf);
      if (entry.manager !== ourManager && entry.operation === 'Update') foreign.set(key, leaf);
      else ownedByOthers.add(key);
    }
  }
  const removals = [...foreign]
    .filter(([key, path]) => !ownedByOthers.has(key) && getAt(wanted, path) === undefined)
    .map(([, path]) => path)
    .sort(
      (a, b) =>
        b.length - a.length ||
        String(b[b.length - 1]).localeCompare(String(a[a.length - 1]), 'en', { numeric: true }),
    );
  return removals.map((path) => ({ op: 'remove', path: pointer(path) }));
}

function collectLeaves(fields: Record<string, unknown>, live: unknown, path: Path, out: Path[]): void {
  const children = Object.entries(fields).filter(([k]) => k !== '.');
  if (children.length === 0) {
    out.push(path);
    return;
  }
  for (const [key, sub] of children) {
    if (!isPlainObject(sub)) continue;
    if (key.startsWith('f:')) {
      const field = key.slice(2);
      if (isPlainObject(live) && field in live) collectLeaves(sub, live[field], [...path, field], out);
    } else if (key.startsWith('k:') && Array.isArray(live)) {
      let match: Record<string, unknown>;
      try {
        match = JSON.parse(key.slice(2)) as Record<string, unknown>;
      } catch {
        continue;
      }
      const index = live.findIndex(
        (item) => isPlainObject(item) && Object.entries(match).every(([k, v]) => item[k] === v),
      );
      if (index >= 0) collectLeaves(sub, live[index], [...path, index], out);
    }
    // `v:` (set members) and `i:` entries are left alone: the whole list is then not ours to trim.
  }
}

function getAt(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}
