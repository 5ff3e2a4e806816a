/**
 * A real `capp-operator` process for the cross-process tests (e2e/, tools/helm/): the compiled entry
 * point that `npm run operator` and the chart's image run (`dist/apps/operator/src/main.js`, built by
 * tools/build.ts once per test process), started with the image's Node.js flags, with its JSON log
 * lines collected.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { REPO_ROOT } from './paths';
import { freePort } from './ports';
import { run } from './system';
import { waitFor } from './wait';

/** One log line (pino JSON); a line that is not JSON (a crash, a usage error) is kept as `{ msg }`. */
export interface OperatorLogLine {
  event?: string;
  msg?: string;
  err?: unknown;
  [key: string]: unknown;
}

export interface OperatorStartOptions {
  /** Flags after the entry point (apps/operator/src/config/config.ts); a flag wins over its env variable. */
  args?: string[];
  /** The process's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /**
   * Serve /metrics and the probes on free local ports (`--metrics-port`, `--probe-port`), then known as
   * {@link OperatorProcess.metricsPort} and {@link OperatorProcess.probePort}.
   */
  ports?: boolean;
  /** How long to wait for the `started` line (default 60 s). */
  timeoutMs?: number;
}

let build: Promise<unknown> | undefined;

/** `npm run operator`'s build (tools/build.ts: SWC to dist/), once per test process. */
function buildOperator(): Promise<unknown> {
  build ??= run(process.execPath, ['tools/run-ts.cjs', 'tools/build.ts', 'operator'], {
    cwd: REPO_ROOT,
    timeoutMs: 600_000,
  }).catch((err: unknown) => {
    build = undefined;
    throw err;
  });
  return build;
}

export class OperatorProcess {
  /** Every log line so far, stdout and stderr. */
  readonly lines: OperatorLogLine[] = [];
  /** Set once the process has exited and all its output is in {@link lines}. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  metricsPort = 0;
  probePort = 0;
  private child?: ChildProcess;

  /** `name`: what failure messages call this process. */
  constructor(readonly name = 'operator') {}

  /** Builds the operator (once), starts it and waits for its `started` line (logged at level info). */
  async start({
    args = [],
    env = process.env,
    ports = false,
    timeoutMs = 60_000,
  }: OperatorStartOptions = {}): Promise<void> {
    await buildOperator();
    if (ports) {
      this.metricsPort = await freePort();
      this.probePort = await freePort();
      args = [...args, '--metrics-port', String(this.metricsPort), '--probe-port', String(this.probePort)];
    }
    const child = spawn(process.execPath, [...imageNodeFlags(), 'dist/apps/operator/src/main.js', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        if (line) this.lines.push(parse(line));
      });
    }
    child.on('error', (err) => {
      this.lines.push({ msg: err.message });
      this.exit ??= { code: null, signal: null };
    });
    // 'close', not 'exit': the output is read to its end by then.
    child.on('close', (code, signal) => (this.exit = { code, signal }));
    await this.logged('started', timeoutMs);
  }

  /** The first log line with this `event`, waiting for it; fails as soon as the process has exited. */
  logged(event: string, timeoutMs = 20_000): Promise<OperatorLogLine> {
    return this.explain(
      (async () => {
        const line = await waitFor(
          `${this.name} to log "${event}"`,
          async () => this.lines.find((l) => l.event === event) ?? (this.exit ? null : undefined),
          timeoutMs,
        );
        if (!line)
          throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before logging "${event}"`);
        return line;
      })(),
    );
  }

  /** {@link waitFor}, with this process's last log lines in the failure. */
  until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    return this.explain(waitFor(what, probe, timeoutMs));
  }

  /** On failure, the process's last log lines become part of the message (e.g. what was forbidden). */
  async explain<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      const header = `\n${this.name} log:\n`;
      if (err instanceof Error && err.message.includes(header)) throw err; // explained already
      const tail = this.lines.slice(-20).map((l) => JSON.stringify(l).slice(0, 400));
      throw new Error(`${err instanceof Error ? err.message : String(err)}${header}${tail.join('\n')}`);
    }
  }

  /** A GET on one of its ports (default: the metrics port); status 0 when nothing answers. */
  async get(path: string, port = this.metricsPort): Promise<{ status: number; body: string }> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }

  /** One sample of /metrics (`name` with its labels, if any); NaN when absent. */
  async metric(name: string): Promise<number> {
    const { body } = await this.get('/metrics');
    const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').pop()) : NaN;
  }

  /** Sends `signal` unless the process has exited. */
  kill(signal: NodeJS.Signals): void {
    if (this.child && !this.exit) this.child.kill(signal);
  }

  /** Waits for the process to exit; its exit code (null after a signal). */
  async exited(timeoutMs = 20_000): Promise<number | null> {
    await this.until(`${this.name} to exit`, async () => this.exit !== undefined, timeoutMs);
    return this.exit?.code ?? null;
  }

  /** SIGTERM (drain, release the Lease), SIGKILL after 20 s; the exit code (null if never started). */
  async stop(): Promise<number | null> {
    if (!this.child) return null;
    this.kill('SIGTERM');
    await this.exited().catch(() => this.kill('SIGKILL'));
    return this.exited(5_000);
  }
}

function parse(line: string): OperatorLogLine {
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as OperatorLogLine;
  } catch {
    // not JSON
  }
  return { msg: line };
}

/**
 * The Node.js flags of the operator image's entrypoint (`node <flags> dist/apps/operator/src/main.js`),
 * so a test runs the operator as the image does (the operator's node-flags spec holds the entrypoint
 * to the flags `npm run operator` and `npm run dev` use).
 */
function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(join(REPO_ROOT, 'apps/operator/Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/apps/operator/src/main.js')
    throw new Error(
      `apps/operator/Dockerfile: expected ENTRYPOINT ["node", …, "dist/apps/operator/src/main.js"]`,
    );
  return argv.slice(1, -1);
}
