import {
  type ClientRequest,
  type IncomingMessage,
  request as httpRequest,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';

import { type CredentialOptions, KubeCredentials, type KubeTarget } from './credentials';
import { apiError, KubeUnreachableError, safeJson } from './errors';

export interface RequestCounts {
  reads: number;
  writes: number;
  watches: number;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface RawResponse<T = unknown> {
  status: number;
  text: string;
  body: T;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptionsIn {
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Default 60 s. */
  timeoutMs?: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * HTTP to the API server: credentials and TLS from {@link KubeCredentials}, JSON in and out, typed
 * errors ({@link apiError}), watches as streams of events. Requests are counted, so benchmarks and
 * tests can prove how many reads and writes something costs.
 */
export class KubeRest {
  readonly counts: RequestCounts = { reads: 0, writes: 0, watches: 0 };

  constructor(readonly credentials: KubeCredentials) {}

  /** The kubeconfig at `path`; else in-cluster; else client-node's default loading rules. */
  static fromKubeconfig(path?: string, options?: CredentialOptions): KubeRest {
    return new KubeRest(KubeCredentials.fromKubeconfig(path, options));
  }

  static fromTarget(target: KubeTarget, options?: CredentialOptions): KubeRest {
    return new KubeRest(KubeCredentials.fromTarget(target, options));
  }

  get serverUrl(): string {
    return this.credentials.server.toString();
  }

  /** The body of a 2xx answer (parsed JSON, or the text when it is not JSON); else a typed error. */
  async request<T>(method: string, path: string, opts: RequestOptionsIn = {}): Promise<T> {
    const { status, text, body } = await this.raw<T>(method, path, opts);
    if (status < 200 || status > 299) throw apiError(status, text, method, path);
    return body;
  }

  /**
   * One request whatever its status: the status, the text and the body (parsed JSON, else the text).
   * Network failures still throw {@link KubeUnreachableError}.
   */
  async raw<T = unknown>(method: string, path: string, opts: RequestOptionsIn = {}): Promise<RawResponse<T>> {
    if (WRITE_METHODS.has(method)) this.counts.writes++;
    else this.counts.reads++;
    const payload =
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? opts.body
          : JSON.stringify(opts.body);
    const options = await this.options(method, path, opts.query, opts.accept);
    if (payload !== undefined) {
      options.headers = {
        ...options.headers,
        'Content-Type': opts.contentType ?? 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      };
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const fail = (err: unknown): void => reject(new KubeUnreachableError(method, path, err));
      const req = this.send(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const body = (text ? (safeJson(text) ?? text) : undefined) as T;
          resolve({ status: res.statusCode ?? 0, text, body });
        });
        res.on('error', fail);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', fail);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Streams watch events until the server closes the stream, the signal aborts, or an error occurs.
   * Resolves on a normal end; rejects with a typed error (GoneError among them) otherwise.
   */
  async watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    accept?: string,
  ): Promise<void> {
    this.counts.watches++;
    const options = await this.options(
      'GET',
      path,
      { ...query, watch: true, allowWatchBookmarks: true },
      accept,
    );
    await new Promise<void>((resolve, reject) => {
      const req = this.send(options, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => reject(apiError(res.statusCode ?? 0, text, 'WATCH', path)));
          return;
        }
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (line) => {
          if (!line.trim()) return;
          const event = safeJson(line) as WatchEvent<T> | undefined;
          if (!event) return;
          if (event.type === 'ERROR') {
            const st = event.object as { code?: number };
            req.destroy();
            reject(apiError(st.code ?? 500, JSON.stringify(event.object), 'WATCH', path));
            return;
          }
          onEvent(event);
        });
        lines.on('close', () => resolve());
        // A destroyed stream (abort, or server gone) errors on both the response and the line reader.
        const failed = (err: Error): void =>
          signal.aborted ? resolve() : reject(new KubeUnreachableError('WATCH', path, err));
        lines.on('error', failed);
        res.on('error', failed);
      });
      req.on('error', (err) =>
        signal.aborted ? resolve() : reject(new KubeUnreachableError('WATCH', path, err)),
      );
      const abort = (): void => {
        req.destroy();
        resolve();
      };
      if (signal.aborted) abort();
      signal.addEventListener('abort', abort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', abort));
      req.end();
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.credentials.close();
  }

  private send(options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
    return this.credentials.server.protocol === 'https:'
      ? httpsRequest(options, onResponse)
      : httpRequest(options, onResponse);
  }

  private async options(
    method: string,
    path: string,
    query?: Query,
    accept = 'application/json',
  ): Promise<RequestOptions> {
    const url = new URL(path, this.credentials.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const connection = await this.credentials.connection();
    const options: RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { ...connection.headers, Accept: accept },
    };
    if (connection.auth) options.auth = connection.auth;
    if (connection.agent) options.agent = connection.agent;
    return options;
  }
}
