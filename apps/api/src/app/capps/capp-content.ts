import {
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_LAST_UPDATED_BY,
  ANNOTATION_PLACED_FOR_SITE,
  Capp,
  CAPP_API_VERSION,
  CAPP_KIND,
  CappStatus,
  CappWrite,
  withSpecDefaults,
} from '@capp/capp-model';

import { sameJson } from '../../common/json';
import type { CappContent, CappRecord, RevisionRecord } from './capps.repository';

/** Annotations the platform (the API, the hub mode's placement) or kubectl write: never part of a revision. */
const SYSTEM_ANNOTATIONS = new Set([
  ANNOTATION_LAST_UPDATED_BY,
  ANNOTATION_HAS_PLACEMENT,
  ANNOTATION_PLACED_FOR_SITE,
  'kubectl.kubernetes.io/last-applied-configuration',
]);

function userAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !SYSTEM_ANNOTATIONS.has(k)));
}

/** The content a write body asks for, with the defaults the CRD applies (so a no-op stays a no-op). */
export function contentOf(capp: Pick<CappWrite, 'metadata' | 'spec'>): CappContent {
  return {
    spec: withSpecDefaults(capp.spec),
    labels: { ...(capp.metadata.labels ?? {}) },
    annotations: userAnnotations(capp.metadata.annotations),
  };
}

export function sameContent(a: CappContent, b: CappContent): boolean {
  return sameJson(a.spec, b.spec) && sameJson(a.labels, b.labels) && sameJson(a.annotations, b.annotations);
}

/** The editable document a merge patch applies to. */
export function writableDocument(content: CappContent): { metadata: Record<string, unknown>; spec: unknown } {
  return { metadata: { labels: content.labels, annotations: content.annotations }, spec: content.spec };
}

export interface SyncView {
  state: CappRecord['syncState'];
  /** The last error applying this Capp to the cluster (kept until a later apply succeeds). */
  error?: string;
  attempts: number;
  /** The version the cluster has (the ETag of the last apply). */
  appliedVersion?: number;
}

/** A Capp as the API returns it: the CR's shape, the cached cluster status, and the sync state. */
export interface CappResource extends Capp {
  sync: SyncView;
}

export function etagOf(record: Pick<CappRecord, 'version'>): string {
  return `"${record.version}"`;
}

export function toResource(record: CappRecord): CappResource {
  return {
    apiVersion: CAPP_API_VERSION,
    kind: CAPP_KIND,
    metadata: {
      name: record.name,
      namespace: record.namespace,
      uid: record.id,
      resourceVersion: String(record.version),
      creationTimestamp: record.createdAt.toISOString(),
      ...(record.deletedAt && { deletionTimestamp: record.deletedAt.toISOString() }),
      labels: record.labels,
      annotations: {
        ...record.annotations,
        ...(record.updatedBy && { [ANNOTATION_LAST_UPDATED_BY]: record.updatedBy }),
      },
    },
    spec: record.spec,
    status: (record.status ?? {}) as CappStatus,
    sync: {
      state: record.syncState,
      ...(record.syncError && { error: record.syncError }),
      attempts: record.syncAttempts,
      ...(record.syncedVersion !== null && { appliedVersion: record.syncedVersion }),
    },
  };
}

export interface RevisionView {
  number: number;
  source: RevisionRecord['source'];
  createdBy: string | null;
  createdAt: string;
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: CappContent['spec'];
}

export function toRevisionView(r: RevisionRecord): RevisionView {
  return {
    number: r.number,
    source: r.source,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    metadata: { labels: r.labels, annotations: r.annotations },
    spec: r.spec,
  };
}
