/**
 * A minimal Kubernetes REST client on node:https, for the harness itself.
 *
 * The harness deliberately does not depend on @kubernetes/client-node (an ES module that jest can
 * only load when told to transform it), so every consumer of `@capp/testing` works without extra
 * jest configuration. Tests are free to use client-node against the same kubeconfig.
 */
import { request } from 'node:https';

export interface KubeTarget {
  /** https://127.0.0.1:<port> */
  server: string;
  token: string;
  /** PEM bundle to verify the serving certificate; when absent the certificate is not verified. */
  ca?: string | Buffer;
}

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** Thrown for non-2xx answers by {@link kubeJson}; `status` and the apiserver's `Status.message`. */
export class KubeRequestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? String(body.message)
        : JSON.stringify(body);
    super(`${method} ${path} -> ${status}: ${message}`);
    this.name = 'KubeRequestError';
  }
}

/** One request; never throws on HTTP status (only on network errors and timeouts). */
export function kubeRequest<T = unknown>(
  target: KubeTarget,
  method: string,
  path: string,
  body?: unknown,
  { contentType = 'application/json', timeoutMs = 30_000 } = {},
): Promise<KubeResponse<T>> {
  const url = new URL(path, target.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          Authorization: `Bearer ${target.token}`,
          Accept: 'application/json',
          ...(payload !== undefined
            ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }
            : {}),
        },
        ca: target.ca,
        rejectUnauthorized: target.ca !== undefined,
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            /* plain text (e.g. /readyz) */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${url.pathname} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Like {@link kubeRequest} but returns the body and throws {@link KubeRequestError} unless 2xx or `allow`ed. */
export async function kubeJson<T = Record<string, unknown>>(
  target: KubeTarget,
  method: string,
  path: string,
  body?: unknown,
  { allow = [] as number[], contentType = 'application/json' } = {},
): Promise<T> {
  const res = await kubeRequest<T>(target, method, path, body, { contentType });
  if ((res.status >= 200 && res.status < 300) || allow.includes(res.status)) return res.body;
  throw new KubeRequestError(method, path, res.status, res.body);
}

/** Server-side apply of one object (idempotent create-or-update) under field manager `capp-testing`. */
export function serverSideApply(
  target: KubeTarget,
  path: string,
  object: unknown,
): Promise<Record<string, unknown>> {
  return kubeJson(target, 'PATCH', `${path}?fieldManager=capp-testing&force=true`, object, {
    contentType: 'application/apply-patch+yaml',
  });
}
