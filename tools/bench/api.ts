/**
 * `npm run bench:api [-- --duration 10 --connections 10 --auth kubernetes,none --endpoints get,list,create --sync-wait-ms 2000]`:
 * HTTP throughput and latency of the REST API against a bare NestJS endpoint measured the same way in
 * the same run.
 *
 *  1. starts a private environment (control plane, PostgreSQL, Redis) and a migrated database;
 *  2. baseline: a NestJS app with one controller returning a small JSON (same Express platform, no
 *     logger, no helmet, no guards), in its own process;
 *  3. the API compiled as deployed (`dist/apps/api/src/main.js`) in its own process, once per auth
 *     mode, on the same database: `get` (one Capp), `list` (limit=100 over 120 Capps), `create`
 *     (POST, a unique name per request);
 *  4. autocannon on loopback, from this process, after a short warm-up of each endpoint; the API's
 *     own CPU time per request from /proc.
 *
 * Prints numbers; asserts nothing (non-2xx answers are counted, with the tail of the server's log).
 */
import 'reflect-metadata';

import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { KubeRest, NAMESPACE_TYPE, resourcePath } from '@capp/kube';
import {
  createMigratedDatabase,
  freePort,
  ProcessGroup,
  startEnvironment,
  testEnvironment,
} from '@capp/testing';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import autocannon from 'autocannon';
import { Pool } from 'pg';

import { build } from '../build';
import { summarizeProfile } from './cpuprofile';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    /** Comma-separated AUTH_MODEs to measure the API in. */
    auth: { type: 'string', default: 'kubernetes,none' },
    /**
     * Comma-separated endpoints to measure (each in every auth mode and straight on kube-apiserver; the
     * floor of a read with `get`): `--endpoints get` is the quick loop for work on the read path.
     */
    endpoints: { type: 'string', default: 'get,list,create' },
    /** The API's SYNC_WAIT_MS (default: the API's own default, 2000): 0 answers creates before the apply. */
    'sync-wait-ms': { type: 'string', default: '2000' },
    /**
     * Write CPU profiles of the API's measured phases here (`<mode>-<endpoint>.cpuprofile`, for Chrome
     * DevTools or speedscope) and print each one's heaviest packages and functions.
     */
    profile: { type: 'string' },
    /** Internal: serve the baseline app on PORT (the bench starts itself with this flag). */
    'baseline-server': { type: 'boolean', default: false },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const WARMUP_SECONDS = 2;
const LIST_CAPPS = 120;
const LIST_NAMESPACE = 'bench-list';
/** How long a write waits for the cluster apply before answering 202 (the API's default is 2000). */
const SYNC_WAIT_MS = values['sync-wait-ms'];
const PROFILE_DIR = values.profile ? resolve(values.profile) : undefined;
const ENDPOINTS = new Set(values.endpoints.split(',').map((e) => e.trim()));
for (const e of ENDPOINTS)
  if (!['get', 'list', 'create'].includes(e)) throw new Error(`unknown endpoint ${e}`);

// --- the baseline: the least any NestJS endpoint costs here -----------------------------------------

@Controller()
class PingController {
  @Get('ping')
  ping(): { status: string; time: string } {
    return { status: 'ok', time: new Date().toISOString() };
  }
}

/**
 * The floor of a read: the same bare app answering with one row read by its unique key through a pg
 * pool as a prepared statement — what any GET of a stored Capp costs at the least.
 */
@Controller()
class RowController {
  private readonly pool = new Pool({ connectionString: process.env['DATABASE_URL'], max: 10 });

  @Get('row/:ns/:name')
  async row(@Param('ns') ns: string, @Param('name') name: string): Promise<unknown> {
    const { rows } = await this.pool.query({
      name: 'row',
      text: 'SELECT "id", "namespace", "name", "spec", "labels", "annotations", "status", "version" FROM "Capp" WHERE "namespace" = $1 AND "name" = $2',
      values: [ns, name],
    });
    return rows[0];
  }
}

@Module({ controllers: [PingController, RowController] })
class BaselineModule {}

async function serveBaseline(): Promise<void> {
  const app = await NestFactory.create(BaselineModule, { logger: false });
  await app.listen(Number(process.env['PORT']), '127.0.0.1');
}

// --- helpers -------------------------------------------------------------------------------------------

function capp(name: string): Record<string, unknown> {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, labels: { bench: 'true' } },
    spec: {
      configurationSpec: {
        template: {
          spec: { containers: [{ name: 'app', image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0' }] },
        },
      },
    },
  };
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

interface Server {
  name: string;
  url: string;
  pid: number;
  /** Started with tools/bench/cpu-profile.cjs: SIGUSR2 writes `<name>-<n>.cpuprofile`. */
  profiled?: boolean;
  /** Profiles written so far (the next one's n). */
  profiles?: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts `node args` in its own process group (log in `logDir/<name>.log`, killed by a watchdog should
 * this process die) and waits until GET `readyPath` answers 200.
 */
async function startServer(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logDir: string,
  port: number,
  readyPath: string,
): Promise<Server> {
  const group = new ProcessGroup(name, logDir);
  const proc = group.spawn(name, process.execPath, args, { env });
  const url = `http://127.0.0.1:${port}`;
  await group.waitFor(
    `${name} to answer ${readyPath}`,
    () =>
      fetch(`${url}${readyPath}`).then(
        (r) => r.ok,
        () => false,
      ),
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  const profiled = env['CPU_PROFILE_DIR'] !== undefined;
  return { name, url, pid: proc.pid, profiled, logFile: proc.logFile, stop: () => group.stop(10_000) };
}

async function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** Resolves once the API's sync queue is empty (every write applied to the cluster). */
async function drained(api: Server): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const depth = /^capp_api_sync_queue_depth (\S+)$/m.exec(text)?.[1];
    if (depth === '0') return;
    if (Date.now() > deadline) throw new Error(`sync queue of ${api.name} not drained: depth ${depth}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Row {
  endpoint: string;
  auth: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Non-2xx answers and connection errors. */
  bad: number;
  total: number;
  cpuMsPerReq: number;
  /** kube-apiserver's CPU per request meanwhile (the whole of it for a direct request). */
  apiserverMsPerReq: number;
  /** The server's CPU time over the measured seconds (1 = one core busy). */
  cores: number;
  statuses: string;
  bytesPerReq: number;
}

type Requests = autocannon.Options['requests'];

async function measure(
  server: Server,
  endpoint: string,
  auth: string,
  opts: { path: string; method?: string; headers?: Record<string, string>; requests?: Requests },
): Promise<Row> {
  const base: autocannon.Options = {
    url: `${server.url}${opts.path}`,
    method: (opts.method ?? 'GET') as autocannon.Options['method'],
    headers: opts.headers,
    requests: opts.requests,
    connections: CONNECTIONS,
  };
  await autocannon({ ...base, duration: WARMUP_SECONDS });
  if (server.profiled) await cutProfile(server); // start up and warm-up: not kept
  const cpu0 = cpuSeconds(server.pid);
  const apiserver0 = cpuSeconds(APISERVER.pid);
  const r = await autocannon({ ...base, duration: DURATION });
  const cpu = cpuSeconds(server.pid) - cpu0;
  const apiserverCpu = cpuSeconds(APISERVER.pid) - apiserver0;
  if (server.profiled && PROFILE_DIR) {
    const file = join(PROFILE_DIR, `${server.name}-${endpoint}.cpuprofile`);
    renameSync(await cutProfile(server), file);
    process.stderr.write(`${summarizeProfile(file, 12)}\n`);
  }
  const statuses = Object.entries(r.statusCodeStats ?? {})
    .map(([code, s]) => `${code}×${s.count ?? 0}`)
    .join(' ');
  const row: Row = {
    endpoint,
    auth,
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: r.non2xx + r.errors,
    total: r.requests.total,
    cpuMsPerReq: r.requests.total ? (cpu * 1000) / r.requests.total : NaN,
    apiserverMsPerReq: r.requests.total ? (apiserverCpu * 1000) / r.requests.total : NaN,
    cores: cpu / r.duration,
    statuses,
    bytesPerReq: r.requests.total ? r.throughput.total / r.requests.total : NaN,
  };
  if (row.bad > 0 && server.logFile) {
    const tail = readFileSync(server.logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
    process.stderr.write(
      `  ${row.bad} non-2xx answers or errors; last lines of ${server.name}'s log:\n${tail}\n`,
    );
  }
  process.stderr.write(
    `  ${endpoint.padEnd(8)} ${auth.padEnd(10)} ${row.reqPerSec.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms (${statuses})\n`,
  );
  return row;
}

/** Asks a profiled server for the profile since the last cut; resolves to its file once written. */
async function cutProfile(server: Server): Promise<string> {
  const n = server.profiles ?? 0;
  server.profiles = n + 1;
  const file = join(PROFILE_DIR ?? '.', `${server.name}-${n}.cpuprofile`);
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      JSON.parse(readFileSync(file, 'utf8'));
      return file;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no CPU profile from ${server.name}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The kube-apiserver of the environment (its CPU is what a direct request costs). */
function kubeApiserverPid(stateDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0].endsWith('kube-apiserver') && cmd.some((a) => a.includes(stateDir))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no kube-apiserver process of ${stateDir}`);
}

/** The environment's kube-apiserver, once started (its CPU is sampled around every measurement). */
const APISERVER = { pid: 0 };

// --- the run -------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const modes = values.auth.split(',').map((m) => m.trim());
  for (const m of modes) if (!['kubernetes', 'none'].includes(m)) throw new Error(`unknown auth mode ${m}`);
  const loadAtStart = loadavg()[0].toFixed(1);
  process.stderr.write(`starting a private environment (control plane, PostgreSQL, Redis)\n`);
  const env = await startEnvironment({ log: () => undefined });
  const servers: Server[] = [];
  try {
    const db = await createMigratedDatabase(env.databaseUrl);
    const kube = testEnvironment(env.infoFile);
    APISERVER.pid = kubeApiserverPid(env.stateDir);
    const adminToken = kube.adminToken ?? '';
    const admin = KubeRest.fromTarget(kube.target);
    const namespace = (name: string): Promise<unknown> =>
      admin.request('POST', resourcePath(NAMESPACE_TYPE), {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      });
    await namespace(LIST_NAMESPACE);
    build('api');

    const rows: Row[] = [];
    if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });

    // Baseline first, on a quiet machine (the environment idles).
    const baselinePort = await freePort();
    const baseline = await startServer(
      'baseline',
      [require.resolve('../run-ts.cjs'), __filename, '--baseline-server'],
      { ...process.env, PORT: String(baselinePort) },
      env.stateDir,
      baselinePort,
      '/ping',
    );
    servers.push(baseline);
    process.stderr.write(`measuring ${DURATION} s per endpoint, ${CONNECTIONS} connections\n`);
    rows.push(await measure(baseline, 'baseline', '-', { path: '/ping' }));
    await baseline.stop();
    /** The floor of a read (see RowController), once the API has stored the Capps. */
    const floor = async (): Promise<void> => {
      const port = await freePort();
      const server = await startServer(
        'baseline-row',
        [require.resolve('../run-ts.cjs'), __filename, '--baseline-server'],
        { ...process.env, PORT: String(port), DATABASE_URL: db.url },
        env.stateDir,
        port,
        '/ping',
      );
      servers.push(server);
      rows.push(await measure(server, 'row', '-', { path: `/row/${LIST_NAMESPACE}/app-0` }));
      await server.stop();
    };

    let seeded = false;
    for (const mode of modes) {
      const port = await freePort();
      const api = await startServer(
        `api-${mode}`,
        [...(PROFILE_DIR ? ['-r', require.resolve('./cpu-profile.cjs')] : []), 'dist/apps/api/src/main.js'],
        {
          ...process.env,
          ...(PROFILE_DIR ? { CPU_PROFILE_DIR: PROFILE_DIR, CPU_PROFILE_NAME: `api-${mode}` } : {}),
          DATABASE_URL: db.url,
          REDIS_URL: env.redisUrl,
          KUBECONFIG: env.kubeconfigPath,
          HOST: '127.0.0.1',
          PORT: String(port),
          AUTH_MODE: mode,
          RATE_LIMIT_PER_MINUTE: '0',
          LOG_LEVEL: 'warn',
          SYNC_WAIT_MS,
        },
        env.stateDir,
        port,
        '/readyz',
      );
      servers.push(api);
      // The admin token (system:masters) in both modes, so requests are the same size; AUTH_MODE=none ignores it.
      const headers = { authorization: `Bearer ${adminToken}` };
      const base = `/api/v1/namespaces/${LIST_NAMESPACE}/capps`;
      if (!seeded) {
        let next = 0;
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            while (next < LIST_CAPPS) {
              const res = await request(`${api.url}${base}`, 'POST', headers, capp(`app-${next++}`));
              if (res.status !== 201 && res.status !== 202)
                throw new Error(`seeding: HTTP ${res.status} ${res.text}`);
            }
          }),
        );
        seeded = true;
      }
      await drained(api);
      const page = JSON.parse((await request(`${api.url}${base}?limit=100`, 'GET', headers)).text) as {
        items?: unknown[];
      };
      if (page.items?.length !== 100) throw new Error(`list: expected 100 items, got ${page.items?.length}`);

      if (ENDPOINTS.has('get'))
        rows.push(await measure(api, 'get', mode, { path: `${base}/app-0`, headers }));
      if (ENDPOINTS.has('list'))
        rows.push(await measure(api, 'list', mode, { path: `${base}?limit=100`, headers }));

      const createNs = `bench-create-${mode}`;
      let n = 0;
      if (ENDPOINTS.has('create')) await namespace(createNs);
      if (ENDPOINTS.has('create'))
        rows.push(
          await measure(api, 'create', mode, {
            path: `/api/v1/namespaces/${createNs}/capps`,
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            requests: [
              {
                setupRequest: (req) => ({ ...req, body: JSON.stringify(capp(`c-${n++}`)) }),
              },
            ],
          }),
        );
      await drained(api);
      await api.stop();
    }

    if (ENDPOINTS.has('get')) await floor();

    // The reference beside the baseline: the same read and create sent straight to kube-apiserver, as
    // kubectl sends them (the admin token; no operator runs, so nothing reconciles the Capps created).
    const kubeServer: Server = {
      name: 'kube-apiserver',
      url: kube.target.server,
      pid: APISERVER.pid,
      logFile: '',
      stop: async () => undefined,
    };
    const direct = `/apis/rcs.dana.io/v1alpha1/namespaces`;
    const kubeHeaders = { authorization: `Bearer ${adminToken}`, accept: 'application/json' };
    if (ENDPOINTS.has('get'))
      rows.push(
        await measure(kubeServer, 'get', 'kube', {
          path: `${direct}/${LIST_NAMESPACE}/capps/app-0`,
          headers: kubeHeaders,
        }),
      );
    if (ENDPOINTS.has('list'))
      rows.push(
        await measure(kubeServer, 'list', 'kube', {
          path: `${direct}/${LIST_NAMESPACE}/capps?limit=100`,
          headers: kubeHeaders,
        }),
      );
    let k = 0;
    if (ENDPOINTS.has('create')) await namespace('bench-create-kube');
    if (ENDPOINTS.has('create'))
      rows.push(
        await measure(kubeServer, 'create', 'kube', {
          path: `${direct}/bench-create-kube/capps`,
          method: 'POST',
          headers: { ...kubeHeaders, 'content-type': 'application/json' },
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify(capp(`k-${k++}`)),
              }),
            },
          ],
        }),
      );

    const [b] = rows;
    const vsKube = (r: Row): string => {
      const ref = rows.find((x) => x.auth === 'kube' && x.endpoint === r.endpoint);
      return ref && r.auth !== 'kube' ? (r.reqPerSec / ref.reqPerSec).toFixed(2) : '';
    };
    const head = [
      'endpoint',
      'auth',
      'req/s',
      'p50 ms',
      'p99 ms',
      'vs baseline',
      'vs kube',
      'server CPU ms/req',
      'kube-apiserver CPU ms/req',
      'server cores',
      'bytes/resp',
      'non-2xx',
      'answers',
    ];
    const table = rows.map((r) => [
      r.endpoint,
      r.auth,
      r.reqPerSec.toFixed(0),
      String(r.p50),
      String(r.p99),
      r === b ? '1' : `${(r.reqPerSec / b.reqPerSec).toFixed(3)}`,
      vsKube(r),
      Number.isNaN(r.cpuMsPerReq) ? 'n/a' : r.cpuMsPerReq.toFixed(2),
      Number.isNaN(r.apiserverMsPerReq) ? 'n/a' : r.apiserverMsPerReq.toFixed(2),
      r.cores.toFixed(2),
      r.bytesPerReq.toFixed(0),
      String(r.bad),
      r.statuses,
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |\n`;
    process.stdout.write(
      `\nAPI vs bare NestJS, ${DURATION} s per endpoint, ${CONNECTIONS} connections, SYNC_WAIT_MS=${SYNC_WAIT_MS}; ` +
        `${cpus().length} cores, load average ${loadAtStart} at start, ${loadavg()[0].toFixed(1)} at end\n`,
    );
    process.stdout.write(line(head));
    process.stdout.write(line(widths.map((w) => '-'.repeat(w))));
    for (const row of table) process.stdout.write(line(row));
  } finally {
    for (const s of servers) await s.stop();
    await env.stop();
  }
}

if (values['baseline-server']) {
  serveBaseline().catch((err: unknown) => {
    process.stderr.write(`baseline failed: ${String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
