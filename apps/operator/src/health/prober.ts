import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { type EffectiveProbe, isSuccessStatus, type ProbeResult } from './evaluate';

export interface ProberOptions {
  /** Probes in flight at once, across every scope. */
  concurrency: number;
  /** Told of every probe's duration and outcome (the `capp_probe_duration_seconds` histogram). */
  observe?(namespace: string, result: 'success' | 'failure', seconds: number): void;
}

/**
 * HTTP probes of members' own URLs: at most `concurrency` in flight (others wait their turn), each
 * bounded by the probe's timeout, never retried (a failure is counted toward `failureThreshold`; the
 * next attempt is the next period). No keep-alive: a probe measures a fresh request, as a load
 * balancer's would. HTTPS certificates are not verified, as the kubelet does not for its probes.
 */
export class HttpProber {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: ProberOptions) {}

  async probe(namespace: string, url: string, probe: EffectiveProbe): Promise<ProbeResult> {
    await this.acquire();
    const started = process.hrtime.bigint();
    try {
      const result = await this.once(url, probe);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.observe?.(namespace, result.ok ? 'success' : 'failure', seconds);
      return { ...result, latencyMs: Math.round(seconds * 1000) };
    } finally {
      this.release();
    }
  }

  private once(url: string, probe: EffectiveProbe): Promise<Omit<ProbeResult, 'latencyMs'>> {
    return new Promise((resolve) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const done = (r: Omit<ProbeResult, 'latencyMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = send(
        target,
        {
          method: probe.method,
          agent: false,
          headers: { 'user-agent': 'capp-operator-healthscope', accept: '*/*' },
          ...(target.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
        },
        (res: IncomingMessage) => {
          res.resume(); // the body is not read; drain it so the socket closes
          const code = res.statusCode ?? 0;
          const ok = isSuccessStatus(code, probe.successStatus);
          done({ ok, status: String(code), message: `HTTP ${code} from ${probe.method} ${target.pathname}` });
          req.destroy();
        },
      );
      const timer = setTimeout(() => {
        done({
          ok: false,
          status: 'Timeout',
          message: `no answer within ${probe.timeoutSeconds}s from ${probe.method} ${target.pathname}`,
        });
        req.destroy();
      }, probe.timeoutSeconds * 1000);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const refused = err.code === 'ECONNREFUSED';
        done({
          ok: false,
          status: refused ? 'ConnectionRefused' : 'Error',
          message: refused
            ? `connection refused by ${target.host}`
            : `${err.code ?? 'error'}: ${err.message}`,
        });
      });
      req.end();
    });
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Probes in flight (for tests). */
  get inFlight(): number {
    return this.running;
  }
}
