// The API's two stores through the harness services: the real Prisma CLI migrates an empty database
// offline (WASM schema engine + pg adapter, see docs/adr/0003-prisma-offline.md) and the generated
// client runs on @prisma/adapter-pg; a BullMQ job makes a round trip through the harness Redis.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { PrismaPg } from '@prisma/adapter-pg';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';

import { prismaCli } from './database';
import { REPO_ROOT } from './paths';
import { type Postgres, startPostgres } from './postgres';
import { run } from './system';

async function publicTables(databaseUrl: string): Promise<string[]> {
  const out = await run('psql', [
    '-X',
    '-At',
    '-v',
    'ON_ERROR_STOP=1',
    databaseUrl,
    '-c',
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  ]);
  return out.split('\n').filter(Boolean);
}

/** The part of the generated client this test uses (the client itself is generated, not committed). */
interface CappRow {
  id: string;
  version: number;
  syncState: string;
  labels: unknown;
  revisions?: { number: number; source: string; spec: unknown }[];
}
interface GeneratedClient {
  capp: {
    create(args: unknown): Promise<CappRow>;
    findUnique(args: unknown): Promise<CappRow | null>;
    delete(args: unknown): Promise<CappRow>;
  };
  cappRevision: { count(args: unknown): Promise<number> };
  $disconnect(): Promise<void>;
}
type ClientModule = { PrismaClient: new (options: { adapter: PrismaPg }) => GeneratedClient };

describe('Prisma migrations and client, offline', () => {
  let pg: Postgres;
  const database = `prisma_${randomBytes(4).toString('hex')}`;
  let url = '';

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase(database);
  });

  afterAll(async () => {
    await pg?.dropDatabase(database);
    await pg?.stop();
  });

  it('`prisma migrate deploy` takes an empty database to the committed schema', async () => {
    expect(await publicTables(url)).toEqual([]);

    const out = await prismaCli(['migrate', 'deploy'], url);
    expect(out).toContain('All migrations have been successfully applied.');
    expect(await publicTables(url)).toEqual(['Capp', 'CappRevision', '_prisma_migrations']);

    expect(await prismaCli(['migrate', 'status'], url)).toContain('Database schema is up to date!');
    // The committed migrations produce exactly schema.prisma (replayed on a shadow database).
    const drift = ['--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma'];
    expect(await prismaCli(['migrate', 'diff', ...drift, '--exit-code'], url)).toContain(
      'No difference detected.',
    );
    // The 6.19 WASM schema engine leaves a 10 s timer behind, so each deploy takes ~11 s.
  }, 120_000);

  it('`prisma generate` builds a client that works on the pg driver adapter', async () => {
    expect(await prismaCli(['generate'], url)).toContain('Generated Prisma Client');
    const { PrismaClient } = require(
      join(REPO_ROOT, 'prisma', 'generated', 'client', 'client'),
    ) as ClientModule;
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    try {
      const spec = { image: 'ghcr.io/dana-team/hello:1', scaleOptions: { algorithm: 'concurrency' } };
      const created = await client.capp.create({
        data: {
          namespace: 'team-a',
          name: 'hello',
          spec,
          labels: { app: 'hello' },
          revisions: { create: { number: 1, spec, source: 'api', createdBy: 'alice' } },
        },
      });
      expect(created).toMatchObject({ version: 1, syncState: 'Pending', labels: { app: 'hello' } });

      const found = await client.capp.findUnique({
        where: { namespace_name: { namespace: 'team-a', name: 'hello' } },
        include: { revisions: true },
      });
      expect(found?.revisions).toEqual([expect.objectContaining({ number: 1, source: 'api', spec })]);

      await expect(
        client.capp.create({ data: { namespace: 'team-a', name: 'hello', spec } }),
      ).rejects.toMatchObject({
        code: 'P2002',
      });

      await client.capp.delete({ where: { id: created.id } });
      expect(await client.cappRevision.count({ where: { cappId: created.id } })).toBe(0);
    } finally {
      await client.$disconnect();
    }
  });
});

describe('BullMQ through the harness Redis', () => {
  it('a queued job is processed by a worker and its result awaited', async () => {
    const url = process.env['REDIS_URL'];
    if (!url) throw new Error('REDIS_URL is not set (the harness globalSetup exports it)');
    const connection = { url, maxRetriesPerRequest: null };
    const name = `capp-test-${randomBytes(4).toString('hex')}`;

    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const worker = new Worker(
      name,
      async (job: Job<{ namespace: string; name: string }>) => ({
        applied: `${job.data.namespace}/${job.data.name}`,
        attempt: job.attemptsMade + 1,
      }),
      { connection },
    );
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
      const job = await queue.add('apply', { namespace: 'team-a', name: 'hello' }, { attempts: 3 });

      await expect(job.waitUntilFinished(events, 30_000)).resolves.toEqual({
        applied: 'team-a/hello',
        attempt: 1,
      });
      expect(await queue.getJobState(job.id ?? '')).toBe('completed');
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
