/**
 * A private, throwaway PostgreSQL server (system package, installed with apt when missing), or the
 * server of `DATABASE_URL` when that is set.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import { withDatabase } from './database';
import { ensureDir, keepFromEnv } from './paths';
import { freePort } from './ports';
import { killPids, type ManagedProcess, ProcessGroup } from './process';
import { ensureAptPackages, onPath, postgresBinDir, run } from './system';

export const POSTGRES_PASSWORD = 'postgres';
export const DEFAULT_DATABASE = 'capp';

export interface PostgresOptions {
  /** Where logs and the pid file go (default: a temporary directory). Data always lives in its own temp dir. */
  stateDir?: string;
  keep?: boolean;
  /** Database created at start (default `capp`). */
  database?: string;
  /** Use this server instead of starting one (default: `DATABASE_URL`). Pass `null` to always start one. */
  url?: string | null;
  log?: (line: string) => void;
}

export interface Postgres {
  /** postgresql://postgres:postgres@127.0.0.1:<port>/capp */
  databaseUrl: string;
  /** True when the server came from DATABASE_URL (stop() then leaves it alone). */
  external: boolean;
  port?: number;
  /** Creates a fresh database (random name by default) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /**
   * Outage drill: stops the server (fast shutdown: clients are disconnected), runs `whileStopped`,
   * then starts it again on the same port and data. Private servers only.
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function psql(url: string, sql: string): Promise<string> {
  return run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', url, '-c', sql], { timeoutMs: 60_000 });
}

/** Database operations against any server (the private one or DATABASE_URL's). */
function databaseOps(serverUrl: string): Pick<Postgres, 'createDatabase' | 'dropDatabase'> {
  const maintenance = withDatabase(serverUrl, 'postgres');
  return {
    async createDatabase(name = `test_${randomBytes(6).toString('hex')}`): Promise<string> {
      await psql(maintenance, `CREATE DATABASE ${quoteIdent(name)}`);
      return withDatabase(serverUrl, name);
    },
    async dropDatabase(name: string): Promise<void> {
      await psql(maintenance, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}

/** Installs the PostgreSQL server and client with apt when missing. */
export async function ensurePostgresInstalled(): Promise<string> {
  await ensureAptPackages(
    ['postgresql', 'postgresql-client'],
    () => postgresBinDir() !== undefined && onPath('psql'),
  );
  const dir = postgresBinDir();
  if (!dir) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin');
  return dir;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const external = options.url === undefined ? process.env['DATABASE_URL'] : options.url;
  if (external) {
    if (!onPath('psql')) await ensureAptPackages(['postgresql-client'], () => onPath('psql'));
    return {
      databaseUrl: external,
      external: true,
      ...databaseOps(external),
      restart: () => Promise.reject(new Error(`cannot restart the external PostgreSQL of ${external}`)),
      stop: async () => undefined,
    };
  }

  const t0 = Date.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`[capp-testing] ${line}\n`));
  const keep = options.keep ?? keepFromEnv();
  const ownDir = options.stateDir === undefined;
  const stateDir = ensureDir(options.stateDir, 'capp-postgres-state-');
  const binDir = await ensurePostgresInstalled();

  // PostgreSQL refuses to run as root: data and socket dirs belong to the `postgres` user, and the
  // server runs through setpriv (exec, so the pid we hold is the postmaster itself).
  const asRoot = userInfo().uid === 0;
  const dataRoot = mkdtempSync(join(tmpdir(), 'capp-postgres-'));
  const dataDir = join(dataRoot, 'data');
  const socketDir = join(dataRoot, 'socket');
  mkdirSync(socketDir);
  const pwFile = join(dataRoot, 'pwfile');
  writeFileSync(pwFile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
  if (asRoot) {
    const { uid, gid } = postgresUser();
    for (const p of [dataRoot, socketDir, pwFile]) chownSync(p, uid, gid);
  }
  chmodSync(dataRoot, 0o700);
  const as = (cmd: string, args: string[]): [string, string[]] =>
    asRoot
      ? onPath('setpriv')
        ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]]
        : ['runuser', ['-u', 'postgres', '--', cmd, ...args]]
      : [cmd, args];

  const cleanup = keep ? [] : ownDir ? [dataRoot, stateDir] : [dataRoot];
  const group = new ProcessGroup('postgres', stateDir, cleanup);
  try {
    const [initCmd, initArgs] = as(join(binDir, 'initdb'), [
      `--pgdata=${dataDir}`,
      '--username=postgres',
      `--pwfile=${pwFile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    await run(initCmd, initArgs, { timeoutMs: 120_000 });

    const port = await freePort();
    const [cmd, args] = as(join(binDir, 'postgres'), [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ]);
    // SIGINT = "fast shutdown": disconnect clients and stop at once (SIGTERM would wait for them).
    const spawnServer = async (): Promise<ManagedProcess> => {
      const proc = group.spawn('postgres', cmd, args, { stopSignal: 'SIGINT', cwd: dataRoot });
      await group.waitFor(
        'PostgreSQL to accept connections',
        async () => {
          await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'], {
            timeoutMs: 5000,
          });
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 100, watch: [proc] },
      );
      return proc;
    };
    let server = await spawnServer();
    const serverUrl = `postgresql://postgres:${POSTGRES_PASSWORD}@127.0.0.1:${port}/postgres`;
    const ops = databaseOps(serverUrl);
    const databaseUrl = await ops.createDatabase(options.database ?? DEFAULT_DATABASE);
    log(
      `PostgreSQL ready at 127.0.0.1:${port} in ${Date.now() - t0} ms (data ${dataDir}, log ${server.logFile})`,
    );
    return {
      databaseUrl,
      external: false,
      port,
      ...ops,
      async restart(whileStopped?: () => Promise<void>): Promise<void> {
        await killPids([server.pid], 'SIGINT', 10_000);
        await server.exited;
        try {
          await whileStopped?.();
        } finally {
          server = await spawnServer();
        }
      },
      stop: () => group.stop(),
    };
  } catch (err) {
    await group.stop(3000, false);
    throw new Error(
      `PostgreSQL failed to start (logs in ${stateDir}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string): number => {
    const res = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (res.status !== 0)
      throw new Error('the postgres system user does not exist (is the postgresql package installed?)');
    return Number(res.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}
