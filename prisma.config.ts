/**
 * Prisma CLI configuration. The CLI runs offline: migrations go through the WASM schema engine that
 * ships in the `prisma` package (`engine: 'js'` + a pg driver adapter), and `prisma generate`
 * produces a query-compiler client (`engineType = "client"`), so no engine binary is downloaded
 * from binaries.prisma.sh. See docs/adr/0003-prisma-offline.md.
 *
 * The database is `DATABASE_URL` (used only by commands that connect: migrate, db, studio).
 */
import { randomUUID } from 'node:crypto';

import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

/** Catalog types adapter-pg 6.x does not decode → the text type they are on the wire. */
const CATALOG_TEXT_TYPES: ReadonlyMap<number, number> = new Map([
  [18, 25], // "char" → text
  [19, 25], // name → text
  [1003, 1009], // name[] → text[]
]);

interface PgResult {
  fields?: { dataTypeID: number }[];
}
type PerformIO = (this: unknown, ...args: unknown[]) => Promise<PgResult>;
const patchedPrototypes = new WeakSet<object>();

/**
 * @prisma/adapter-pg 6.x cannot decode the `name` and `"char"` columns the WASM schema engine reads
 * from the PostgreSQL catalogs ("Column type 'name' could not be deserialized from the database",
 * prisma/prisma#27403). Report them as text, which is what they are in pg's text protocol.
 */
function decodeCatalogTypesAsText(adapter: object): void {
  // adapter → PrismaPgAdapter.prototype → PgQueryable.prototype (shared with transactions).
  const queryable = Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as { performIO?: PerformIO } | null;
  const original = queryable?.performIO;
  if (!queryable || !original || patchedPrototypes.has(queryable)) return;
  queryable.performIO = async function (this: unknown, ...args: unknown[]): Promise<PgResult> {
    const result = await original.apply(this, args);
    // A multi-statement script (a migration) yields one result per statement.
    for (const r of Array.isArray(result) ? (result as PgResult[]) : [result]) {
      for (const field of r.fields ?? [])
        field.dataTypeID = CATALOG_TEXT_TYPES.get(field.dataTypeID) ?? field.dataTypeID;
    }
    return result;
  };
  patchedPrototypes.add(queryable);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** PrismaPg for the WASM schema engine, with the adapter-pg 6.x migrate bugs worked around. */
class MigratePg extends PrismaPg {
  constructor(private readonly url: string) {
    // allowExitOnIdle: the CLI does not always dispose the adapter, and an idle pool would keep the
    // process alive for pg's idleTimeoutMillis (10 s) after e.g. `migrate status`.
    super({ connectionString: url, allowExitOnIdle: true });
  }

  override async connect(): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect();
    decodeCatalogTypesAsText(adapter);
    return adapter;
  }

  /**
   * adapter-pg 6.x creates the shadow database but then connects with `{...config, database}`,
   * where the connection string wins: the "shadow" is the main database and `migrate dev` fails.
   */
  override async connectToShadowDb(): ReturnType<PrismaPg['connectToShadowDb']> {
    const main = await this.connect();
    const database = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, '')}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await new MigratePg(withDatabase(this.url, database)).connect();
    const disposeShadow = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await disposeShadow();
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await main.dispose();
    };
    return shadow;
  }
}

// Read before the placeholder below: the adapter must never connect to the placeholder.
const databaseUrl = process.env['DATABASE_URL'];
// The schema's `url = env("DATABASE_URL")` must resolve even for `prisma generate`: when it does not,
// Prisma 6 cannot read `engineType = "client"` and falls back to downloading the query-engine library.
process.env['DATABASE_URL'] ||= 'postgresql://unset@127.0.0.1:1/unset';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => {
    if (!databaseUrl)
      throw new Error('DATABASE_URL is not set (postgresql://user:password@host:port/database)');
    return new MigratePg(databaseUrl);
  },
});
