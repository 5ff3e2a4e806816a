import { canonicalJson } from '@capp/capp-model';
import { type TraitHttpRequest } from '@capp/knative-adapter';
import type { Logger } from 'pino';

export interface TraitHttpOptions {
  /** Hosts (`host` or `host:port`) a trait may GET from; empty: none. */
  allowedHosts: readonly string[];
  /** When a trait names no timeout (default 5 s). */
  defaultTimeoutSeconds?: number;
  /** When a trait names no TTL (default 60 s). */
  defaultTtlSeconds?: number;
  logger: Logger;
  now?: () => number;
}

/** A `processing.http` request a trait may not make at all (a host not allowed, a bad URL): not retried. */
export class TraitHttpRefused extends Error {
  override readonly name = 'TraitHttpRefused';
}

/** The URL as logs and status may show it: no query (parameters may be sensitive), no credentials. */
export function redactedUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * `processing.http` of traits (DESIGN §8): a GET to an allowed host, with a timeout; a JSON answer
 * is kept per (trait, request) for a TTL, so a resync of a thousand Capps asks once. Neither the
 * query, the headers nor the answer are logged or put in messages. Failures throw; the reconciler
 * reports them in the Capp's status and the work queue retries with backoff.
 */
export class TraitHttpClient {
  private readonly answers = new Map<string, { value: unknown; expires: number }>();
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly options: TraitHttpOptions) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async fetch(request: TraitHttpRequest): Promise<unknown> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new TraitHttpRefused('processing.http.url is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TraitHttpRefused(`processing.http.url must be http or https, not ${url.protocol}`);
    if (url.username || url.password)
      throw new TraitHttpRefused('processing.http.url may not carry credentials (use headers)');
    const allowed = this.options.allowedHosts;
    if (!allowed.includes(url.host) && !allowed.includes(url.hostname))
      throw new TraitHttpRefused(
        `host "${url.host}" is not allowed for processing.http (operator flag --trait-http-allowed-hosts)`,
      );

    const key = canonicalJson([request.trait, request.url, request.headers]);
    const hit = this.answers.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const p = this.get(url, request).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    const value = await p;
    const ttl = (request.ttlSeconds ?? this.options.defaultTtlSeconds ?? 60) * 1000;
    if (ttl > 0) this.answers.set(key, { value, expires: this.now() + ttl });
    for (const [k, a] of this.answers) if (a.expires <= this.now()) this.answers.delete(k);
    return value;
  }

  private async get(url: URL, request: TraitHttpRequest): Promise<unknown> {
    const seconds = request.timeoutSeconds ?? this.options.defaultTimeoutSeconds ?? 5;
    const where = redactedUrl(url);
    const started = this.now();
    let answer: Response;
    try {
      answer = await fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json', ...request.headers },
        signal: AbortSignal.timeout(seconds * 1000),
        redirect: 'error',
      });
    } catch (err) {
      const name = (err as { name?: unknown } | undefined)?.name; // a DOMException, maybe of another realm
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      this.log(request, url, 'failed', started);
      throw new Error(timedOut ? `GET ${where} timed out after ${seconds} s` : `GET ${where} failed`);
    }
    if (!answer.ok) {
      await answer.body?.cancel();
      this.log(request, url, String(answer.status), started);
      throw new Error(`GET ${where} answered ${answer.status}`);
    }
    try {
      const value: unknown = await answer.json();
      this.log(request, url, String(answer.status), started);
      return value;
    } catch {
      throw new Error(`GET ${where} did not answer JSON`);
    }
  }

  private log(request: TraitHttpRequest, url: URL, result: string, started: number): void {
    this.options.logger.debug(
      { event: 'trait-http', trait: request.trait, host: url.host, result, ms: this.now() - started },
      'trait processing.http',
    );
  }
}
