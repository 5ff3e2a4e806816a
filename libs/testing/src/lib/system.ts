import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command and resolves with stdout; rejects with stderr/stdout in the message. */
export function run(
  command: string,
  args: string[],
  {
    env,
    cwd,
    timeoutMs = 120_000,
    input,
  }: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { env: env ?? process.env, cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const output = `${String(stderr)}${String(stdout)}`.trim().split('\n').slice(-20).join('\n');
          reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${output}`));
        } else {
          resolve(String(stdout));
        }
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** True when `name` is an executable on PATH. */
export function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

const aptInstalls = new Map<string, Promise<void>>();

/**
 * Installs Debian packages unless `present()` already holds. Tries without `apt-get update` first
 * (fast when the package lists are fresh) and updates only when that fails; waits for the dpkg
 * lock instead of failing when another install runs.
 */
export function ensureAptPackages(packages: string[], present: () => boolean): Promise<void> {
  if (present()) return Promise.resolve();
  const key = packages.join(' ');
  let pending = aptInstalls.get(key);
  if (!pending) {
    pending = (async () => {
      if (!onPath('apt-get')) {
        throw new Error(
          `${key} not installed and apt-get is not available; install it or set the URL env var`,
        );
      }
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const install = (): Promise<string> =>
        run(
          'apt-get',
          ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...packages],
          {
            env,
            timeoutMs: 900_000,
          },
        );
      process.stderr.write(`[capp-testing] installing ${key} with apt-get\n`);
      try {
        await install();
      } catch {
        await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env, timeoutMs: 900_000 });
        await install();
      }
      if (!present()) throw new Error(`apt-get installed ${key} but it is still not usable`);
    })();
    aptInstalls.set(key, pending);
    pending.catch(() => aptInstalls.delete(key));
  }
  return pending;
}

/** The newest `/usr/lib/postgresql/<version>/bin` that holds `postgres` and `initdb`, if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}
