import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

const LOG_DIR = process.env['E2E_API_LOG_DIR'];
let built = false;

/** Builds the API to dist/ once per test file (SWC, the same build `npm run api` runs). */
function buildApi(): void {
  if (built) return;
  execFileSync(process.execPath, ['tools/run-ts.cjs', 'tools/build.ts', 'api'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  built = true;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/**
 * A real `capp-api` process: `node dist/apps/api/src/main.js` with the given environment (merged over
 * a test default: loopback, any free port, no auth, no rate limit), its pino JSON lines collected
 * (and appended to `$E2E_API_LOG_DIR/<name>.log` when that variable is set, for debugging).
 */
export class ApiProcess {
  private child?: ChildProcess;
  readonly logs: string[] = [];
  port = 0;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    buildApi();
    this.exitCode = null;
    this.signal = null;
    this.port = 0;
    const child = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        HOST: '127.0.0.1',
        PORT: '0',
        AUTH_MODE: 'none',
        RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let partial = '';
    const keep = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        this.logs.push(line);
        if (LOG_DIR) appendFileSync(join(LOG_DIR, `${this.name}.log`), `${line}\n`);
        const event = parse(line);
        if (event?.['msg'] === 'capp api listening' && typeof event['port'] === 'number')
          this.port = event['port'];
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.signal = signal;
    });
    await this.until(
      '"capp api listening"',
      async () => {
        if (!this.running()) throw new Error(`exited (code ${this.exitCode}, signal ${this.signal})`);
        return this.port > 0;
      },
      timeoutMs,
    );
  }

  running(): boolean {
    return this.child !== undefined && this.exitCode === null && this.signal === null;
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T };
  }

  /** Structured log lines (JSON) the process printed. */
  events(): Array<Record<string, unknown>> {
    return this.logs.flatMap((l) => {
      const e = parse(l);
      return e ? [e] : [];
    });
  }

  /** Sends `signal` and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    if (!this.running()) return;
    this.child?.kill(signal);
    await this.until('process exit', async () => !this.running(), timeoutMs);
  }

  async until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        if (await probe()) return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline)
        throw new Error(
          `${this.name}: timed out waiting for ${what}${last ? ` (${String(last)})` : ''}\n` +
            this.logs.slice(-20).join('\n'),
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
