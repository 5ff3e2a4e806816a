/**
 * Throwaway databases with the committed Prisma migrations applied. The migrations run once per
 * server (into a template database named after their content hash); each test database is then a
 * copy of that template, which takes milliseconds instead of a Prisma CLI run.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from 'pg';

import { REPO_ROOT } from './paths';

/** `npx prisma …` in the repository root (where prisma.config.ts is) against `databaseUrl`. */
export function prismaCli(args: string[], databaseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['--no-install', 'prisma', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
        timeout: 120_000,
      },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`prisma ${args.join(' ')}: ${err.message}\n${stderr}${stdout}`))
          : resolve(stdout),
    );
  });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function migrationsHash(): string {
  const dir = join(REPO_ROOT, 'prisma', 'migrations');
  const hash = createHash('sha256');
  for (const entry of readdirSync(dir).sort()) {
    if (entry.endsWith('.toml')) continue;
    hash.update(entry).update(readFileSync(join(dir, entry, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 12);
}

async function withMaintenance<T>(serverUrl: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface MigratedDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new database with every migration applied (default server: `DATABASE_URL`). */
export async function createMigratedDatabase(
  serverUrl = process.env['DATABASE_URL'],
): Promise<MigratedDatabase> {
  if (!serverUrl) throw new Error('DATABASE_URL is not set (the harness globalSetup exports it)');
  const template = `capp_template_${migrationsHash()}`;
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withMaintenance(serverUrl, async (c) => {
    // One creator per server at a time (jest workers race for the template).
    await c.query('SELECT pg_advisory_lock(727274)');
    try {
      const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (!exists.rowCount) {
        const staging = `${template}_${randomBytes(3).toString('hex')}`;
        await c.query(`CREATE DATABASE "${staging}"`);
        await prismaCli(['migrate', 'deploy'], withDatabase(serverUrl, staging));
        await c.query(`ALTER DATABASE "${staging}" RENAME TO "${template}"`);
      }
      await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(727274)');
    }
  });
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () =>
      withMaintenance(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}
