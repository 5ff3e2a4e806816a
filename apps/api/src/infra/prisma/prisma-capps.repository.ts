import type { CappSpec, CappStatus } from '@capp/capp-model';
import type { Capp as CappRow } from '@capp/db';
import { type QueryConfig, types as pgTypes } from 'pg';

import type {
  CappContent,
  CappRecord,
  ClusterStamp,
  ContentChange,
  ListQuery,
  NewCapp,
  PendingSync,
  RevisionRecord,
  RowRevision,
  StoredCapp,
} from '../../app/capps/capps.repository';
import { CappsRepository } from '../../app/capps/capps.repository';
import type { LabelRequirement } from '../../app/capps/label-selector';
import {
  AlreadyExistsError,
  ConcurrentUpdateError,
  DatabaseUnavailableError,
  NotFoundError,
} from '../../common/errors';
import { Prisma, PrismaService } from './prisma.service';

type Tx = Prisma.TransactionClient;

/** Prisma error codes that mean "the database is not there" rather than "the request is wrong". */
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|terminating connection|the database system is (starting up|shutting down)|Can't reach database|Client has encountered a connection error|Connection is closed/i;

function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (e instanceof Error && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Prisma and driver errors → domain errors. Anything else is a bug and stays a 500. */
function mapError(err: unknown, what: string): never {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (err.code === 'P2002') throw new AlreadyExistsError(`${what} already exists`);
    if (err.code === 'P2025') throw new NotFoundError(`${what} not found`);
  }
  if (isUnavailable(err))
    throw new DatabaseUnavailableError(
      'the database is unavailable; the request was not applied, retry later',
    );
  throw err;
}

function toContent(row: { spec: unknown; labels: unknown; annotations: unknown }): CappContent {
  return {
    spec: row.spec as CappSpec,
    labels: (row.labels ?? {}) as Record<string, string>,
    annotations: (row.annotations ?? {}) as Record<string, string>,
  };
}

function toRecord(row: CappRow): CappRecord {
  return {
    ...toContent(row),
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    status: (row.status ?? null) as CappStatus | null,
    version: row.version,
    syncState: row.syncState as CappRecord['syncState'],
    syncError: row.syncError,
    syncAttempts: row.syncAttempts,
    syncedVersion: row.syncedVersion,
    clusterResourceVersion: row.clusterResourceVersion,
    cappUid: row.cappUid,
    clusterUid: row.clusterUid,
    updatedBy: row.updatedBy,
    deletedAt: row.deletedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The columns a cluster answer sets (an unknown resourceVersion keeps the last one). */
function stampColumns(
  stamp: ClusterStamp,
): Partial<Pick<CappRow, 'clusterResourceVersion' | 'cappUid' | 'clusterUid'>> {
  return {
    ...(stamp.resourceVersion && { clusterResourceVersion: stamp.resourceVersion }),
    ...(stamp.uid && { cappUid: stamp.uid }),
    ...(stamp.clusterUid && { clusterUid: stamp.clusterUid }),
  };
}

function json(value: unknown): Prisma.InputJsonValue {
  return value as Prisma.InputJsonValue;
}

/** A Capp row with its JSON columns still as text, and its row revision. */
type RawRow = Omit<
  CappRow,
  'spec' | 'labels' | 'annotations' | 'status' | 'createdAt' | 'updatedAt' | 'deletedAt'
> & {
  spec: string;
  labels: string;
  annotations: string;
  status: string | null;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  rev: string;
};

const LAZY_TYPES = new Set([114, 3802, 1184]); // json, jsonb, timestamptz
/** Type parsers that leave JSON and timestamps as text (parsed once, on `load`, if ever). */
const asText = (text: string): string => text;
const LAZY: QueryConfig['types'] = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    LAZY_TYPES.has(oid) ? asText : pgTypes.getTypeParser(oid, format)) as never,
};

/** A timestamptz as PostgreSQL writes it (`2026-11-30 06:19:04.123+00`). */
const timestamp = (text: string): Date => new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));

function stored(row: RawRow): StoredCapp {
  let record: CappRecord | undefined;
  return {
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    rev: row.rev,
    load: () =>
      (record ??= toRecord({
        ...row,
        spec: JSON.parse(row.spec) as CappRow['spec'],
        labels: JSON.parse(row.labels) as CappRow['labels'],
        annotations: JSON.parse(row.annotations) as CappRow['annotations'],
        status: row.status === null ? null : (JSON.parse(row.status) as CappRow['status']),
        createdAt: timestamp(row.createdAt),
        updatedAt: timestamp(row.updatedAt),
        deletedAt: row.deletedAt === null ? null : timestamp(row.deletedAt),
      })),
  };
}

/**
 * Every column of a Capp row, named (what `toRecord` reads), and the row revision: `xmin`, the
 * transaction that wrote this version of the row, new on every write of any column.
 */
const COLUMNS = [
  'id',
  'namespace',
  'name',
  'spec',
  'labels',
  'annotations',
  'status',
  'version',
  'syncState',
  'syncError',
  'syncAttempts',
  'syncedVersion',
  'clusterResourceVersion',
  'cappUid',
  'clusterUid',
  'updatedBy',
  'deletedAt',
  'createdAt',
  'updatedAt',
]
  .map((c) => `"${c}"`)
  .concat('xmin::text AS "rev"')
  .join(', ');

/** What the read path needs to know whether its cached view of a row is current. */
const REVISION_COLUMNS = '"id", "namespace", "name", "version", xmin::text AS "rev"';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Positional parameters ($1, $2…) of a statement built in pieces: values never enter its text. */
class SqlBuilder {
  readonly values: unknown[] = [];

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function labelCondition({ key, operator, values }: LabelRequirement, sql: SqlBuilder): string {
  switch (operator) {
    case 'eq':
      return `"labels" @> ${sql.param(JSON.stringify({ [key]: values[0] }))}::jsonb`;
    case 'neq':
      return `NOT ("labels" @> ${sql.param(JSON.stringify({ [key]: values[0] }))}::jsonb)`;
    case 'in':
      return `("labels" ->> ${sql.param(key)}) = ANY(${sql.param(values)}::text[])`;
    case 'notin': {
      const k = sql.param(key);
      return `(("labels" ->> ${k}) IS NULL OR NOT (("labels" ->> ${k}) = ANY(${sql.param(values)}::text[])))`;
    }
    case 'exists':
      return `jsonb_exists("labels", ${sql.param(key)})`;
    case 'notexists':
      return `NOT jsonb_exists("labels", ${sql.param(key)})`;
  }
}

/** The SELECT of one page of a list (`columns` of each row), in the order pages are cut. */
function listQuery(query: ListQuery, columns: string): QueryConfig {
  const sql = new SqlBuilder();
  const where: string[] = [];
  // An empty namespace list matches nothing.
  if (query.namespaces) where.push(`"namespace" = ANY(${sql.param(query.namespaces)}::text[])`);
  if (query.after)
    where.push(
      `("namespace", "name") > (${sql.param(query.after.namespace)}, ${sql.param(query.after.name)})`,
    );
  if (query.state) where.push(`COALESCE("spec" ->> 'state', 'enabled') = ${sql.param(query.state)}`);
  where.push(...query.labelSelector.map((r) => labelCondition(r, sql)));
  const text =
    `SELECT ${columns} FROM "Capp"${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
    ` ORDER BY "namespace", "name" LIMIT ${sql.param(query.limit)}`;
  return { text, values: sql.values };
}

const BY_NAME = `SELECT ${COLUMNS} FROM "Capp" WHERE "namespace" = $1 AND "name" = $2`;

/** The Prisma adapter of the Capp store. */
export class PrismaCappsRepository extends CappsRepository {
  constructor(private readonly prisma: PrismaService) {
    super();
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      return mapError(err, what);
    }
  }

  /**
   * The read path (ADR 0012): straight to the pool Prisma's adapter uses, as prepared statements (parsed
   * once per connection), without the query compiler that costs more than the query itself. JSON
   * columns arrive as text and are parsed only when a row is loaded (a cached view needs no parse).
   */
  private async read(query: Omit<QueryConfig, 'types'>): Promise<StoredCapp[]> {
    const { rows } = await this.prisma.pool.query<RawRow>({ ...query, types: LAZY });
    return rows.map(stored);
  }

  async findByName(namespace: string, name: string): Promise<CappRecord | null> {
    return (await this.readByName(namespace, name))?.load() ?? null;
  }

  /** Every GET of a Capp: one query, awaited once (no wrapper closures, no message built unless it fails). */
  async readByName(namespace: string, name: string): Promise<StoredCapp | null> {
    try {
      const { rows } = await this.prisma.pool.query<RawRow>({
        name: 'capp-by-name',
        text: BY_NAME,
        values: [namespace, name],
        types: LAZY,
      });
      return rows.length ? stored(rows[0]) : null;
    } catch (err) {
      return mapError(err, `capp ${namespace}/${name}`);
    }
  }

  async findById(id: string): Promise<CappRecord | null> {
    if (!UUID.test(id)) return null; // not a key the column can hold
    return this.run(`capp ${id}`, async () => {
      const [row] = await this.read({
        name: 'capp-by-id',
        text: `SELECT ${COLUMNS} FROM "Capp" WHERE "id" = $1`,
        values: [id],
      });
      return row?.load() ?? null;
    });
  }

  async list(query: ListQuery): Promise<CappRecord[]> {
    return (await this.readList(query)).map((row) => row.load());
  }

  async readList(query: ListQuery): Promise<StoredCapp[]> {
    return this.run('capps', async () => this.read(listQuery(query, COLUMNS)));
  }

  async listRevisions(query: ListQuery): Promise<RowRevision[]> {
    return this.run('capps', async () => {
      const { rows } = await this.prisma.pool.query<RowRevision>(listQuery(query, REVISION_COLUMNS));
      return rows;
    });
  }

  async readByIds(ids: string[]): Promise<StoredCapp[]> {
    const valid = ids.filter((id) => UUID.test(id));
    if (!valid.length) return [];
    return this.run('capps', () =>
      this.read({
        name: 'capps-by-id',
        text: `SELECT ${COLUMNS} FROM "Capp" WHERE "id" = ANY($1::uuid[])`,
        values: [valid],
      }),
    );
  }

  async namespaces(): Promise<string[]> {
    return this.run('namespaces', async () => {
      const rows = await this.prisma.capp.findMany({ distinct: ['namespace'], select: { namespace: true } });
      return rows.map((r) => r.namespace).sort();
    });
  }

  async create(input: NewCapp): Promise<CappRecord> {
    const { namespace, name, content, source, by, synced } = input;
    return this.run(`capp ${namespace}/${name}`, async () => {
      const row = await this.prisma.capp.create({
        data: {
          namespace,
          name,
          spec: json(content.spec),
          labels: content.labels,
          annotations: content.annotations,
          updatedBy: by,
          ...(synced && {
            syncState: 'Synced',
            syncedVersion: 1,
            ...stampColumns(synced),
            status: synced.status ? json(synced.status) : Prisma.DbNull,
          }),
          revisions: {
            create: {
              number: 1,
              spec: json(content.spec),
              labels: content.labels,
              annotations: content.annotations,
              source,
              createdBy: by,
            },
          },
        },
      });
      return toRecord(row);
    });
  }

  async changeContent(change: ContentChange, revisionLimit: number): Promise<CappRecord> {
    const { id, expectedVersion, content, source, by, synced } = change;
    return this.run(`capp ${id}`, () =>
      this.prisma.$transaction(async (tx: Tx) => {
        const updated = await tx.capp.updateMany({
          where: { id, version: expectedVersion, deletedAt: null },
          data: {
            spec: json(content.spec),
            labels: content.labels,
            annotations: content.annotations,
            version: { increment: 1 },
            updatedBy: by,
            ...(synced
              ? {
                  syncState: 'Synced',
                  syncError: null,
                  syncAttempts: 0,
                  syncedVersion: expectedVersion + 1,
                  ...stampColumns(synced),
                }
              : { syncState: 'Pending', syncError: null, syncAttempts: 0 }),
          },
        });
        if (updated.count === 0) {
          const exists = await tx.capp.findUnique({ where: { id }, select: { id: true } });
          if (!exists) throw new NotFoundError('capp not found');
          throw new ConcurrentUpdateError('the capp was changed concurrently; read it again and retry');
        }
        const row = await tx.capp.findUniqueOrThrow({ where: { id } });
        const last = await tx.cappRevision.aggregate({ where: { cappId: id }, _max: { number: true } });
        const number = (last._max.number ?? 0) + 1;
        await tx.cappRevision.create({
          data: {
            cappId: id,
            number,
            spec: json(content.spec),
            labels: content.labels,
            annotations: content.annotations,
            source,
            createdBy: by,
          },
        });
        await tx.cappRevision.deleteMany({ where: { cappId: id, number: { lte: number - revisionLimit } } });
        return toRecord(row);
      }),
    );
  }

  async markDeleted(id: string, expectedVersion: number, by: string): Promise<CappRecord> {
    return this.run(`capp ${id}`, async () => {
      const updated = await this.prisma.capp.updateMany({
        where: { id, version: expectedVersion },
        data: {
          deletedAt: new Date(),
          syncState: 'Pending',
          syncError: null,
          syncAttempts: 0,
          updatedBy: by,
        },
      });
      if (updated.count === 0)
        throw new ConcurrentUpdateError('the capp was changed concurrently; read it again and retry');
      return toRecord(await this.prisma.capp.findUniqueOrThrow({ where: { id } }));
    });
  }

  async purge(id: string, expectedVersion?: number): Promise<boolean> {
    return this.run(`capp ${id}`, async () => {
      const deleted = await this.prisma.capp.deleteMany({ where: { id, version: expectedVersion } });
      return deleted.count > 0;
    });
  }

  async revisions(id: string): Promise<RevisionRecord[]> {
    return this.run(`revisions of ${id}`, async () => {
      const rows = await this.prisma.cappRevision.findMany({
        where: { cappId: id },
        orderBy: { number: 'asc' },
      });
      return rows.map((r) => ({
        ...toContent(r),
        number: r.number,
        source: r.source,
        createdBy: r.createdBy,
        createdAt: r.createdAt,
      }));
    });
  }

  async revision(id: string, number: number): Promise<RevisionRecord | null> {
    return this.run(`revision ${number} of ${id}`, async () => {
      const r = await this.prisma.cappRevision.findUnique({
        where: { cappId_number: { cappId: id, number } },
      });
      return (
        r && {
          ...toContent(r),
          number: r.number,
          source: r.source,
          createdBy: r.createdBy,
          createdAt: r.createdAt,
        }
      );
    });
  }

  async markSynced(id: string, version: number, applied: ClusterStamp): Promise<boolean> {
    return this.run(`capp ${id}`, async () => {
      const updated = await this.prisma.capp.updateMany({
        where: { id, version, deletedAt: null },
        data: {
          syncState: 'Synced',
          syncError: null,
          syncedVersion: version,
          ...stampColumns(applied),
        },
      });
      return updated.count > 0;
    });
  }

  async markSyncFailure(id: string, version: number, message: string, permanent: boolean): Promise<void> {
    await this.run(`capp ${id}`, () =>
      this.prisma.capp.updateMany({
        where: { id, version },
        data: {
          syncError: message.slice(0, 2000),
          syncAttempts: { increment: 1 },
          ...(permanent && { syncState: 'Failed' }),
        },
      }),
    );
  }

  async markPending(id: string, reason: string): Promise<void> {
    await this.run(`capp ${id}`, () =>
      this.prisma.capp.updateMany({
        where: { id, deletedAt: null },
        data: { syncState: 'Pending', syncError: reason, syncAttempts: 0 },
      }),
    );
  }

  async updateStatus(id: string, status: CappStatus | null, resourceVersion: string): Promise<void> {
    await this.run(`capp ${id}`, () =>
      this.prisma.capp.updateMany({
        where: { id },
        data: { status: status ? json(status) : Prisma.DbNull, clusterResourceVersion: resourceVersion },
      }),
    );
  }

  async pendingSyncs(limit: number): Promise<PendingSync[]> {
    return this.run('pending capps', async () => {
      const rows = await this.prisma.capp.findMany({
        where: { syncState: 'Pending' },
        select: { id: true, version: true, deletedAt: true },
        orderBy: { updatedAt: 'asc' },
        take: limit,
      });
      return rows.map((r) => ({ id: r.id, version: r.version, deleting: r.deletedAt !== null }));
    });
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.prisma.$queryRaw`SELECT 1`);
  }
}
