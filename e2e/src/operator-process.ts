import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

let built = false;

/** A real `capp-operator` process: the compiled entry point that `npm run operator` runs. */
export class OperatorProcess {
  private child?: ChildProcess;
  readonly logs: string[] = [];
  metricsPort = 0;
  probePort = 0;
  exitCode: number | null = null;

  constructor(
    private readonly args: string[],
    readonly identity: string,
  ) {}

  async start(): Promise<void> {
    if (!built) {
      // `npm run operator` builds the same way (tools/build.ts: SWC to dist/).
      execFileSync(process.execPath, ['tools/run-ts.cjs', 'tools/build.ts', 'operator'], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      built = true;
    }
    this.metricsPort = await freePort();
    this.probePort = await freePort();
    this.child = spawn(
      process.execPath,
      [
        'dist/apps/operator/src/main.js',
        '--metrics-port',
        String(this.metricsPort),
        '--probe-port',
        String(this.probePort),
        '--identity',
        this.identity,
        '--log-level',
        'info',
        ...this.args,
      ],
      { cwd: ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer): void => {
      this.logs.push(...chunk.toString().split('\n').filter(Boolean));
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.on('exit', (code) => (this.exitCode = code));
    await this.until(
      'probe server up',
      async () => (await this.get('/healthz', this.probePort)).status === 200,
    );
  }

  async get(path: string, port = this.metricsPort): Promise<{ status: number; body: string }> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }

  async metric(name: string): Promise<number> {
    const { body } = await this.get('/metrics');
    const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').pop()) : NaN;
  }

  /** Structured log lines (JSON) the process printed. */
  events(): Array<Record<string, unknown>> {
    return this.logs.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async exited(timeoutMs = 20_000): Promise<number | null> {
    await this.until(
      'process exit',
      async () => this.exitCode !== null || this.child?.signalCode != null,
      timeoutMs,
    );
    return this.exitCode;
  }

  async until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline)
        throw new Error(
          `${this.identity}: timed out waiting for ${what}\n${this.logs.slice(-20).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
