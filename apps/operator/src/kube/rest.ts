import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest, RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';

import { KubeConfig } from '@kubernetes/client-node';

/** An answer of the API server other than 2xx. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 409;
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 410;
/** 4xx answers other than 404/409/429 will not get better by retrying the same request. */
export const isPermanent = (err: unknown): boolean =>
  err instanceof KubeApiError &&
  err.statusCode >= 400 &&
  err.statusCode < 500 &&
  ![404, 409, 429].includes(err.statusCode);

export interface RequestCounts {
  reads: number;
  writes: number;
  watches: number;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

type Query = Record<string, string | number | boolean | undefined>;

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** How long credentials from the kubeconfig are reused before asking client-node again. */
const AUTH_TTL_MS = 1000;

/**
 * A small Kubernetes REST client: client-node's KubeConfig decides the server, TLS and credentials
 * (kubeconfig, in-cluster, exec plugins); requests go over one keep-alive agent and are counted, so
 * benchmarks and tests can prove how many reads and writes a reconcile costs.
 */
export class KubeRest {
  readonly counts: RequestCounts = { reads: 0, writes: 0, watches: 0 };
  private readonly server: URL;
  private agent?: Agent;
  private authCache?: { at: number; options: Promise<RequestOptions> };

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  static fromKubeconfig(path?: string): KubeRest {
    const kc = new KubeConfig();
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
    return new KubeRest(kc);
  }

  get serverUrl(): string {
    return this.server.toString();
  }

  async request<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string; accept?: string } = {},
  ): Promise<T> {
    if (WRITE_METHODS.has(method)) this.counts.writes++;
    else this.counts.reads++;
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const { status, text } = await this.send(
      method,
      path,
      opts.query,
      payload,
      opts.contentType,
      opts.accept,
    );
    const body = text ? safeJson(text) : undefined;
    if (status < 200 || status > 299) {
      const st = (body ?? {}) as { reason?: string; message?: string };
      throw new KubeApiError(
        status,
        st.reason ?? 'Unknown',
        st.message ?? (text || `HTTP ${status}`),
        method,
        path,
      );
    }
    return body as T;
  }

  /**
   * Streams watch events until the server closes the stream, the signal aborts, or an error occurs.
   * Resolves on a normal end; rejects with a KubeApiError (410 Gone among them) otherwise.
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
      const req = (this.server.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            const st = (safeJson(text) ?? {}) as { reason?: string; message?: string };
            reject(
              new KubeApiError(
                res.statusCode ?? 0,
                st.reason ?? 'Unknown',
                st.message ?? text,
                'WATCH',
                path,
              ),
            );
          });
          return;
        }
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (line) => {
          if (!line.trim()) return;
          const event = safeJson(line) as WatchEvent<T> | undefined;
          if (!event) return;
          if (event.type === 'ERROR') {
            const st = event.object as unknown as { code?: number; reason?: string; message?: string };
            req.destroy();
            reject(
              new KubeApiError(
                st.code ?? 500,
                st.reason ?? 'Unknown',
                st.message ?? 'watch error',
                'WATCH',
                path,
              ),
            );
            return;
          }
          onEvent(event);
        });
        lines.on('close', () => resolve());
        // A destroyed stream (abort, or server gone) errors on both the response and the line reader.
        const failed = (err: Error): void => (signal.aborted ? resolve() : reject(err));
        lines.on('error', failed);
        res.on('error', failed);
      });
      req.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
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

  close(): void {
    this.agent?.destroy();
  }

  private async options(
    method: string,
    path: string,
    query?: Query,
    accept = 'application/json',
  ): Promise<RequestOptions> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const auth = await this.auth();
    const options: RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { ...auth.headers, Accept: accept },
    };
    if (auth.auth) options.auth = auth.auth;
    if (url.protocol === 'https:') {
      // client-node makes a fresh agent per call; keep one pooled keep-alive agent with the same TLS material.
      this.agent ??= new Agent({
        keepAlive: true,
        maxSockets: 64,
        ca: auth.ca,
        cert: auth.cert,
        key: auth.key,
        servername: auth.servername,
        rejectUnauthorized: auth.rejectUnauthorized,
      });
      options.agent = this.agent;
    }
    return options;
  }

  /**
   * Credentials and TLS material from client-node. They may rotate (in-cluster tokens, exec plugins),
   * so they are asked for again after AUTH_TTL_MS; asking per request would read the kubeconfig's
   * files and build a throw-away agent for every call, a large share of the operator's CPU under load.
   */
  private auth(): Promise<RequestOptions> {
    const now = Date.now();
    if (this.authCache && now - this.authCache.at < AUTH_TTL_MS) return this.authCache.options;
    const options = (async (): Promise<RequestOptions> => {
      const opts: RequestOptions = { headers: {} };
      await this.kc.applyToHTTPSOptions(opts);
      delete opts.agent;
      return opts;
    })();
    this.authCache = { at: now, options };
    // A failure is not cached: the next request asks again.
    options.catch(() => {
      if (this.authCache?.options === options) this.authCache = undefined;
    });
    return options;
  }

  private async send(
    method: string,
    path: string,
    query: Query | undefined,
    payload: string | undefined,
    contentType = 'application/json',
    accept?: string,
  ): Promise<{ status: number; text: string }> {
    const options = await this.options(method, path, query, accept);
    if (payload !== undefined) {
      options.headers = {
        ...options.headers,
        'Content-Type': contentType,
        'Content-Length': Buffer.byteLength(payload),
      };
    }
    return new Promise((resolve, reject) => {
      const req = (this.server.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: timed out after 60s`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
