/**
 * Runs a test environment in the foreground until SIGTERM/SIGINT, then stops it.
 * `tools/cluster.ts up` starts this detached; it can also be run directly:
 *
 *   node tools/run-ts.cjs tools/env/serve.ts [--state-dir DIR] [--postgres] [--redis] [--no-control-plane]
 *
 * When ready it writes `<state-dir>/env.json` (see EnvironmentInfo) and prints its path.
 */
import { resolve } from 'node:path';

import { startEnvironment } from '@capp/testing';

interface ServeArgs {
  stateDir?: string;
  controlPlane: boolean;
  postgres: boolean;
  redis: boolean;
}

function parseArgs(argv: string[]): ServeArgs {
  const args: ServeArgs = { controlPlane: true, postgres: false, redis: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--state-dir') args.stateDir = resolve(argv[++i] ?? '');
    else if (arg === '--postgres') args.postgres = true;
    else if (arg === '--redis') args.redis = true;
    else if (arg === '--no-control-plane') args.controlPlane = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The servers are private to this environment: never adopt the caller's DATABASE_URL / REDIS_URL.
  delete process.env['DATABASE_URL'];
  delete process.env['REDIS_URL'];
  const env = await startEnvironment({ ...args, keep: false });
  let exiting = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (exiting) return;
    exiting = true;
    process.stderr.write(`[capp-env] ${signal}: stopping\n`);
    env.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`[capp-env] stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', shutdown);
  process.stdout.write(`${env.infoFile}\n`);
  // Keep the event loop alive even if every child handle were unref'd.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`[capp-env] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
