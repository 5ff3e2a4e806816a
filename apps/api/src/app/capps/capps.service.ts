import { CappWrite, validateCappWrite, ValidationIssue } from '@capp/capp-model';

import { InvalidInputError, NotFoundError, PreconditionFailedError } from '../../common/errors';
import { mergePatch } from '../../common/json';
import type { ApiConfig } from '../../config/api-config';
import type { CappSync } from '../../infra/queues/capp-sync';
import { contentOf, sameContent, writableDocument } from './capp-content';
import { CappViews } from './capp-views';
import {
  CappContent,
  CappRecord,
  CappsRepository,
  ListQuery,
  RevisionRecord,
  RevisionSource,
  StoredCapp,
} from './capps.repository';
import { ClusterAdmission } from './cluster-admission';

export interface WriteResult {
  record: CappRecord;
  /** True when a new row or version was committed (false for a no-op). */
  changed: boolean;
}

export interface Page {
  /** Each Capp as the API returns it, as JSON text. */
  items: string[];
  /** Opaque cursor for the next page; absent on the last page. */
  continue?: string;
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

export function encodeCursor(record: Pick<CappRecord, 'namespace' | 'name'>): string {
  return Buffer.from(JSON.stringify([record.namespace, record.name])).toString('base64url');
}

export function decodeCursor(cursor: string): { namespace: string; name: string } {
  try {
    const [namespace, name] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof namespace === 'string' && typeof name === 'string') return { namespace, name };
  } catch {
    // fall through
  }
  throw new InvalidInputError('invalid continue token', [
    { path: 'continue', rule: 'cursor', message: 'is not a continue token this API returned' },
  ]);
}

function invalid(issues: ValidationIssue[]): InvalidInputError {
  return new InvalidInputError(
    `the capp is invalid: ${issues.map((i) => `${i.path || '<root>'} ${i.message}`).join('; ')}`,
    issues,
  );
}

/** The URL names the Capp: the body may repeat its namespace and name, but not contradict them. */
function checkIdentity(body: CappWrite, namespace: string, name: string | undefined): string {
  const issues: ValidationIssue[] = [];
  const meta = body.metadata ?? {};
  if (meta.namespace !== undefined && meta.namespace !== namespace)
    issues.push({
      path: 'metadata.namespace',
      rule: 'match',
      message: `must be "${namespace}" (the namespace in the URL)`,
    });
  if (name !== undefined && meta.name !== undefined && meta.name !== name)
    issues.push({ path: 'metadata.name', rule: 'match', message: `must be "${name}" (the name in the URL)` });
  const resolved = name ?? meta.name;
  if (!resolved) issues.push({ path: 'metadata.name', rule: 'required', message: 'is required' });
  if (issues.length) throw invalid(issues);
  return resolved as string;
}

/**
 * The Capp use cases. Every write commits the row (and its revision) first, then enqueues the cluster
 * apply and waits briefly for it: the answer says whether the cluster has it yet (`sync`).
 */
export class CappsService {
  constructor(
    private readonly repository: CappsRepository,
    private readonly sync: CappSync,
    private readonly admission: ClusterAdmission,
    private readonly config: Pick<ApiConfig, 'revisionLimit' | 'syncWaitMs'>,
    private readonly views: CappViews = new CappViews(0),
  ) {}

  /** One Capp for reading (its JSON is parsed only if no view of this row revision is cached). */
  async get(namespace: string, name: string): Promise<StoredCapp> {
    const row = await this.repository.readByName(namespace, name);
    if (!row) throw new NotFoundError(`capp "${name}" not found in namespace "${namespace}"`);
    return row;
  }

  async list(
    query: Omit<ListQuery, 'after' | 'limit'> & { limit?: number; continue?: string },
  ): Promise<Page> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listRevisions({
      namespaces: query.namespaces,
      labelSelector: query.labelSelector,
      state: query.state,
      limit: limit + 1,
      after: query.continue ? decodeCursor(query.continue) : undefined,
    });
    const page = rows.slice(0, limit);
    const items = await this.views.page(page, (ids) => this.repository.readByIds(ids));
    return rows.length > limit ? { items, continue: encodeCursor(page[page.length - 1]) } : { items };
  }

  namespaces(): Promise<string[]> {
    return this.repository.namespaces();
  }

  async create(namespace: string, body: CappWrite, by: string): Promise<WriteResult> {
    const name = checkIdentity(body, namespace, undefined);
    const content = contentOf(body);
    await this.admit(namespace, name, content, by);
    const record = await this.repository.create({ namespace, name, content, source: 'api', by });
    return { record: await this.deliver(record), changed: true };
  }

  /** Full replace (PUT). `ifMatch` is the ETag the client read; a stale one → 412. */
  async replace(
    namespace: string,
    name: string,
    body: CappWrite,
    ifMatch: string | undefined,
    by: string,
  ): Promise<WriteResult> {
    checkIdentity(body, namespace, name);
    const current = await this.current(namespace, name, ifMatch);
    return this.change(current, contentOf(body), 'api', by);
  }

  /** JSON merge patch (RFC 7386) on `{metadata: {labels, annotations}, spec}`; the result is validated whole. */
  async patch(
    namespace: string,
    name: string,
    patch: unknown,
    ifMatch: string | undefined,
    by: string,
  ): Promise<WriteResult> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
      throw invalid([{ path: '', rule: 'type', message: 'a merge patch must be a JSON object' }]);
    const current = await this.current(namespace, name, ifMatch);
    const merged = mergePatch(writableDocument(current), patch) as CappWrite;
    // Knative's rules are the cluster's to judge, with its settings: the admission dry run below (ClusterAdmission).
    const issues = validateCappWrite(merged, { knative: false });
    if (issues.length) throw invalid(issues);
    checkIdentity(merged, namespace, name);
    return this.change(current, contentOf(merged), 'api', by);
  }

  async setState(
    namespace: string,
    name: string,
    state: 'enabled' | 'disabled',
    ifMatch: string | undefined,
    by: string,
  ): Promise<WriteResult> {
    const current = await this.current(namespace, name, ifMatch);
    return this.change(current, { ...current, spec: { ...current.spec, state } }, 'api', by);
  }

  /** A new revision with revision `number`'s content (a no-op when it is already the current content). */
  async rollback(namespace: string, name: string, number: number, by: string): Promise<WriteResult> {
    const current = await this.current(namespace, name, undefined);
    const target = await this.repository.revision(current.id, number);
    if (!target)
      throw new NotFoundError(
        `revision ${number} of capp "${name}" not found (only the last ${this.config.revisionLimit} are kept)`,
      );
    return this.change(current, target, 'rollback', by);
  }

  async revisions(namespace: string, name: string): Promise<RevisionRecord[]> {
    const record = await this.get(namespace, name);
    return this.repository.revisions(record.id);
  }

  async revision(namespace: string, name: string, number: number): Promise<RevisionRecord> {
    const record = await this.get(namespace, name);
    const revision = await this.repository.revision(record.id, number);
    if (!revision) throw new NotFoundError(`revision ${number} of capp "${name}" not found`);
    return revision;
  }

  /** Marks the row deleted, then the queue deletes the CR and the row. */
  async delete(
    namespace: string,
    name: string,
    ifMatch: string | undefined,
    by: string,
  ): Promise<{ record: CappRecord; gone: boolean }> {
    const current = (await this.get(namespace, name)).load();
    if (ifMatch !== undefined && !etagMatches(ifMatch, current.version))
      throw new PreconditionFailedError(`If-Match ${ifMatch} is stale: the capp is at "${current.version}"`);
    const record = current.deletedAt
      ? current
      : await this.repository.markDeleted(current.id, current.version, by);
    const job = await this.sync.enqueue({
      id: record.id,
      namespace,
      name,
      version: record.version,
      deleting: true,
    });
    await this.sync.waitFor(job, this.config.syncWaitMs);
    const after = await this.repository.findById(record.id);
    return { record: after ?? record, gone: after === null };
  }

  private async current(namespace: string, name: string, ifMatch: string | undefined): Promise<CappRecord> {
    const record = (await this.get(namespace, name)).load();
    if (record.deletedAt)
      throw new NotFoundError(`capp "${name}" in namespace "${namespace}" is being deleted`);
    if (ifMatch !== undefined && !etagMatches(ifMatch, record.version))
      throw new PreconditionFailedError(
        `If-Match ${ifMatch} is stale: the capp is at "${record.version}"; read it again`,
      );
    return record;
  }

  private async change(
    current: CappRecord,
    content: CappContent,
    source: RevisionSource,
    by: string,
  ): Promise<WriteResult> {
    if (sameContent(content, current)) {
      // No new revision; a row that is not in the cluster yet gets another delivery attempt.
      return {
        record: current.syncState === 'Synced' ? current : await this.deliver(current),
        changed: false,
      };
    }
    await this.admit(current.namespace, current.name, content, by);
    const record = await this.repository.changeContent(
      { id: current.id, expectedVersion: current.version, content, source, by },
      this.config.revisionLimit,
    );
    return { record: await this.deliver(record), changed: true };
  }

  /** Refuses (422, nothing stored) what the cluster would refuse; see ClusterAdmission. */
  private async admit(namespace: string, name: string, content: CappContent, by: string): Promise<void> {
    const issues = await this.admission.check(namespace, name, content, by);
    if (issues.length)
      throw new InvalidInputError(
        `the cluster refuses the capp: ${issues.map((i) => `${i.path || '<root>'} ${i.message}`).join('; ')}`,
        issues,
        422,
      );
  }

  private async deliver(record: CappRecord): Promise<CappRecord> {
    const job = await this.sync.enqueue({
      id: record.id,
      namespace: record.namespace,
      name: record.name,
      version: record.version,
      deleting: false,
    });
    await this.sync.waitFor(job, this.config.syncWaitMs);
    return (await this.repository.findById(record.id)) ?? record;
  }
}

/** `If-Match: "3"`, `W/"3"`, `3` or `*` against version 3. */
export function etagMatches(ifMatch: string, version: number): boolean {
  return ifMatch
    .split(',')
    .map((t) =>
      t
        .trim()
        .replace(/^W\//, '')
        .replace(/^"(.*)"$/, '$1'),
    )
    .some((t) => t === '*' || t === String(version));
}
