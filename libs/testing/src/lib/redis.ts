/** A private, throwaway Redis server (system package, installed with apt when missing), or `REDIS_URL`'s. */
import { existsSync } from 'node:fs';

import { ensureDir, keepFromEnv } from './paths';
import { freePort } from './ports';
import { killPids, type ManagedProcess, ProcessGroup } from './process';
import { ensureAptPackages, onPath, run } from './system';

export interface RedisOptions {
  /** Working dir, logs and pid file (default: a temporary directory, removed on stop). */
  stateDir?: string;
  keep?: boolean;
  /** Use this server instead of starting one (default: `REDIS_URL`). Pass `null` to always start one. */
  url?: string | null;
  log?: (line: string) => void;
}

export interface Redis {
  /** redis://127.0.0.1:<port> */
  redisUrl: string;
  external: boolean;
  port?: number;
  /**
   * Outage drill: kills the server (its data is not persisted: everything in it is lost), runs
   * `whileStopped`, then starts an empty one on the same port. Private servers only.
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Installs redis-server and redis-cli with apt when missing. */
export async function ensureRedisInstalled(): Promise<void> {
  await ensureAptPackages(
    ['redis-server', 'redis-tools'],
    () => onPath('redis-server') && onPath('redis-cli'),
  );
}

export async function startRedis(options: RedisOptions = {}): Promise<Redis> {
  const external = options.url === undefined ? process.env['REDIS_URL'] : options.url;
  if (external)
    return {
      redisUrl: external,
      external: true,
      restart: () => Promise.reject(new Error(`cannot restart the external Redis of ${external}`)),
      stop: async () => undefined,
    };

  const t0 = Date.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`[capp-testing] ${line}\n`));
  const keep = options.keep ?? keepFromEnv();
  const ownDir = options.stateDir === undefined;
  const stateDir = ensureDir(options.stateDir, 'capp-redis-');
  await ensureRedisInstalled();
  const group = new ProcessGroup('redis', stateDir, keep || !ownDir ? [] : [stateDir]);
  try {
    const port = await freePort();
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      stateDir,
      '--daemonize',
      'no',
      '--logfile',
      '',
    ];
    const spawnServer = async (): Promise<ManagedProcess> => {
      const proc = group.spawn('redis-server', 'redis-server', args);
      await group.waitFor(
        'redis-server PING',
        async () =>
          (await run('redis-cli', ['-p', String(port), 'ping'], { timeoutMs: 5000 })).trim() === 'PONG',
        { timeoutMs: 30_000, intervalMs: 50, watch: [proc] },
      );
      return proc;
    };
    let server = await spawnServer();
    log(`Redis ready at 127.0.0.1:${port} in ${Date.now() - t0} ms (log ${server.logFile})`);
    return {
      redisUrl: `redis://127.0.0.1:${port}`,
      external: false,
      port,
      async restart(whileStopped?: () => Promise<void>): Promise<void> {
        await killPids([server.pid], 'SIGKILL', 10_000);
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
      `Redis failed to start (logs in ${stateDir}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** True when the redis-cli of the system can reach `url` (PING). */
export async function redisPing(url: string): Promise<boolean> {
  if (!existsSync('/usr/bin/redis-cli') && !onPath('redis-cli')) return false;
  return (await run('redis-cli', ['-u', url, 'ping'], { timeoutMs: 5000 })).trim() === 'PONG';
}
