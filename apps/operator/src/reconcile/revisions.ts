import { createHash } from 'node:crypto';

import {
  Capp,
  CAPP_API_VERSION,
  CAPP_KIND,
  CAPP_REVISION_KIND,
  CappRevision,
  CappTemplate,
  LABEL_CAPP_NAME,
  sameJson,
} from '@capp/capp-model';

/** How many CappRevisions a Capp keeps (v0.3.5's number): the oldest go when a change makes more. */
export const REVISIONS_TO_KEEP = 10;

const MAX_NAME = 63;
const MD5_HEX = 32;

/**
 * `<capp>-<n, five digits at least>`, as v0.3.5 names them (knative.dev/pkg's `kmeta.ChildName`):
 * a name that would pass 63 characters keeps the head of the Capp's name and the MD5 of all of it.
 */
export function cappRevisionName(capp: string, revisionNumber: number): string {
  const suffix = `-${String(revisionNumber).padStart(5, '0')}`;
  if (capp.length <= MAX_NAME - suffix.length) return capp + suffix;
  const md5 = createHash('md5').update(capp).digest('hex');
  return `${capp.slice(0, MAX_NAME - MD5_HEX - suffix.length)}${md5}${suffix}`;
}

/**
 * Absent and empty are the same (v0.3.5 compares typed Go structs, where a missing map, list or
 * string equals its empty value): `{}`, `[]`, `""` and `null` are left out, recursively.
 */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const c = compact(v);
    const empty =
      c === null ||
      c === undefined ||
      c === '' ||
      (Array.isArray(c) && c.length === 0) ||
      (typeof c === 'object' && !Array.isArray(c) && Object.keys(c as object).length === 0);
    if (!empty) out[key] = c;
  }
  return out;
}

/** What a revision keeps of the Capp: its spec, labels and annotations as they are. */
export function templateOf(capp: Capp): CappTemplate {
  const { labels, annotations } = capp.metadata;
  return {
    cappSpec: structuredClone(capp.spec),
    ...(labels && Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
  };
}

/** Whether the revision holds the Capp as it is now (spec, labels and annotations: v0.3.5's test). */
export function sameAsRevision(capp: Capp, revision: CappRevision): boolean {
  return sameJson(compact(templateOf(capp)), compact(revision.spec?.cappTemplate ?? {}));
}

/** Revision `revisionNumber` of the Capp: in its namespace, labelled with its name, owned by it. */
export function makeCappRevision(capp: Capp, revisionNumber: number): CappRevision {
  const name = capp.metadata.name;
  return {
    apiVersion: CAPP_API_VERSION,
    kind: CAPP_REVISION_KIND,
    metadata: {
      name: cappRevisionName(name, revisionNumber),
      namespace: capp.metadata.namespace,
      labels: { [LABEL_CAPP_NAME]: name },
      // Not a controller reference (as v0.3.5): garbage collection deletes the revisions with the Capp.
      ...(capp.metadata.uid
        ? {
            ownerReferences: [
              { apiVersion: CAPP_API_VERSION, kind: CAPP_KIND, name, uid: capp.metadata.uid },
            ],
          }
        : {}),
    },
    spec: { revisionNumber, cappTemplate: templateOf(capp) },
  };
}

const revisionNumber = (r: CappRevision): number =>
  typeof r.spec?.revisionNumber === 'number' ? r.spec.revisionNumber : 0;

/**
 * Newest first: by revision number, then creation time, then name. (v0.3.5 sorts by creation time
 * only, whose one-second resolution ties revisions made in the same second; the numbers never tie.)
 */
export function newestFirst(revisions: readonly CappRevision[]): CappRevision[] {
  return [...revisions].sort(
    (a, b) =>
      revisionNumber(b) - revisionNumber(a) ||
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
      b.metadata.name.localeCompare(a.metadata.name),
  );
}

export interface RevisionPlan {
  /** The revision to create, if the Capp differs from its newest one (or has none). */
  create?: CappRevision;
  /** The revisions to delete first, so that at most {@link REVISIONS_TO_KEEP} remain. */
  delete: CappRevision[];
}

/**
 * What v0.3.5 decides for a Capp and its revisions: none → revision 1; the newest one holds the Capp
 * as it is → nothing; else one more, numbered after the newest, and the oldest beyond the newest
 * nine deleted so that ten remain.
 */
export function planRevisions(capp: Capp, existing: readonly CappRevision[]): RevisionPlan {
  const sorted = newestFirst(existing);
  const [newest] = sorted;
  if (!newest) return { create: makeCappRevision(capp, 1), delete: [] };
  if (sameAsRevision(capp, newest)) return { delete: [] };
  return {
    create: makeCappRevision(capp, revisionNumber(newest) + 1),
    delete: sorted.slice(REVISIONS_TO_KEEP - 1),
  };
}
