import type { CappSpec, CappStatus } from '@capp/capp-model';

import type { LabelRequirement } from './label-selector';

/** What a revision records and what a write changes: the user-owned part of a Capp. */
export interface CappContent {
  spec: CappSpec;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type SyncState = 'Pending' | 'Synced' | 'Failed';
export type RevisionSource = 'api' | 'cluster' | 'rollback';

export interface CappRecord extends CappContent {
  id: string;
  namespace: string;
  name: string;
  status: CappStatus | null;
  /** Incremented on every content change; the ETag. */
  version: number;
  syncState: SyncState;
  syncError: string | null;
  syncAttempts: number;
  syncedVersion: number | null;
  clusterResourceVersion: string | null;
  /** metadata.uid of the CR when last applied or seen (null for rows older than the column). */
  cappUid: string | null;
  /** The cluster's identity (its kube-system namespace uid) when the row was last applied or seen. */
  clusterUid: string | null;
  updatedBy: string | null;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A stored row as the read path first sees it: identity, version and row revision at once; the record
 * (its JSON parsed) only when asked, so what is derived from a row can be cached by its revision.
 */
export interface StoredCapp extends RowRevision {
  load(): CappRecord;
}

/** A row's identity and revision: enough to tell whether a view derived from it is current. */
export interface RowRevision {
  id: string;
  namespace: string;
  name: string;
  version: number;
  /** Changes on every write of the row, any column (status and sync state included). */
  rev: string;
}

export interface RevisionRecord extends CappContent {
  number: number;
  source: RevisionSource;
  createdBy: string | null;
  createdAt: Date;
}

/** What the cluster answered for the CR: its resourceVersion and uid, and which cluster it is. */
export interface ClusterStamp {
  resourceVersion: string | null;
  uid: string | null;
  /** The cluster's identity (`kube-system` namespace uid); null when it could not be read. */
  clusterUid: string | null;
}

export interface NewCapp {
  namespace: string;
  name: string;
  content: CappContent;
  source: RevisionSource;
  by: string;
  /** A Capp found in the cluster (kubectl) is already synced. */
  synced?: ClusterStamp & { status: CappStatus | null };
}

export interface ContentChange {
  id: string;
  /** The version the change was computed from: a concurrent change makes the write fail. */
  expectedVersion: number;
  content: CappContent;
  source: RevisionSource;
  by: string;
  /** A change seen in the cluster is already synced at this resourceVersion. */
  synced?: ClusterStamp;
}

export interface ListQuery {
  /** Namespaces to list; `undefined` = all. */
  namespaces?: string[];
  labelSelector: LabelRequirement[];
  state?: 'enabled' | 'disabled';
  limit: number;
  /** Keyset cursor: rows strictly after this (namespace, name). */
  after?: { namespace: string; name: string };
}

export interface PendingSync {
  id: string;
  version: number;
  deleting: boolean;
}

/**
 * The Capp store (port). One-purpose methods; the Prisma adapter implements them with domain errors:
 * `AlreadyExistsError`, `NotFoundError`, `ConcurrentUpdateError`, `DatabaseUnavailableError`.
 */
export abstract class CappsRepository {
  abstract findByName(namespace: string, name: string): Promise<CappRecord | null>;
  /** The read path: the row, not yet parsed. */
  abstract readByName(namespace: string, name: string): Promise<StoredCapp | null>;
  abstract findById(id: string): Promise<CappRecord | null>;
  abstract list(query: ListQuery): Promise<CappRecord[]>;
  /** The read path: the rows, not yet parsed. */
  abstract readList(query: ListQuery): Promise<StoredCapp[]>;
  /** The read path: the revision of each row of the page, in list order (the JSON left out). */
  abstract listRevisions(query: ListQuery): Promise<RowRevision[]>;
  /** The read path: these rows, not yet parsed (in no order; those gone meanwhile left out). */
  abstract readByIds(ids: string[]): Promise<StoredCapp[]>;
  abstract namespaces(): Promise<string[]>;
  /** Creates the row and revision 1 in one transaction. */
  abstract create(input: NewCapp): Promise<CappRecord>;
  /** Bumps the version, records the next revision, prunes beyond `revisionLimit`: one transaction. */
  abstract changeContent(change: ContentChange, revisionLimit: number): Promise<CappRecord>;
  /** Marks the row deleted (the queue removes the CR, then the row). */
  abstract markDeleted(id: string, expectedVersion: number, by: string): Promise<CappRecord>;
  /**
   * Removes the row and its revisions; with `expectedVersion`, only if no write moved it on (false
   * when one did).
   */
  abstract purge(id: string, expectedVersion?: number): Promise<boolean>;
  abstract revisions(id: string): Promise<RevisionRecord[]>;
  abstract revision(id: string, number: number): Promise<RevisionRecord | null>;
  /** Records a successful apply of `version`; false when the row moved on meanwhile. */
  abstract markSynced(id: string, version: number, applied: ClusterStamp): Promise<boolean>;
  abstract markSyncFailure(id: string, version: number, message: string, permanent: boolean): Promise<void>;
  /** Re-queues a row whose CR must be applied again (e.g. missing from the cluster). */
  abstract markPending(id: string, reason: string): Promise<void>;
  abstract updateStatus(id: string, status: CappStatus | null, resourceVersion: string): Promise<void>;
  abstract pendingSyncs(limit: number): Promise<PendingSync[]>;
  abstract ping(): Promise<void>;
}
