/**
 * Runs one command inside a fresh test environment, then stops it:
 *
 *   node tools/run-ts.cjs tools/env/with-env.ts [--no-control-plane] [--no-postgres] [--no-redis] -- <command> [args...]
 *
 * The command sees KUBECONFIG, CAPP_TEST_ADMIN_TOKEN, DATABASE_URL, REDIS_URL and CAPP_TEST_ENV, as
 * jest workers do. Its exit code is passed through.
 */
import { spawn } from 'node:child_process';

import { startEnvironment } from '@capp/testing';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const sep = argv.indexOf('--');
  const flags = sep >= 0 ? argv.slice(0, sep) : [];
  const command = sep >= 0 ? argv.slice(sep + 1) : argv;
  const [cmd, ...args] = command;
  if (!cmd) {
    console.error(
      'usage: with-env.ts [--no-control-plane] [--no-postgres] [--no-redis] -- <command> [args...]',
    );
    return 2;
  }
  const env = await startEnvironment({
    controlPlane: !flags.includes('--no-control-plane'),
    postgres: !flags.includes('--no-postgres'),
    redis: !flags.includes('--no-redis'),
  });
  try {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, CAPP_TEST_ENV: env.infoFile };
    if (env.kubeconfigPath) childEnv['KUBECONFIG'] = env.kubeconfigPath;
    if (env.adminToken) childEnv['CAPP_TEST_ADMIN_TOKEN'] = env.adminToken;
    if (env.databaseUrl) childEnv['DATABASE_URL'] = env.databaseUrl;
    if (env.redisUrl) childEnv['REDIS_URL'] = env.redisUrl;
    const child = spawn(cmd, args, { stdio: 'inherit', env: childEnv });
    // Ctrl-C reaches the command through the terminal; this process waits for it, then cleans up.
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    return await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        console.error(`could not run ${cmd}: ${err.message}`);
        resolve(127);
      });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    await env.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
