import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RouteResponse {
  status: number;
  body: string;
  /** Default `text/plain; charset=utf-8`. */
  contentType?: string;
}

/** Path (without query string) → handler. */
export type Routes = Record<string, () => Promise<RouteResponse>>;

export interface RunningServer {
  /** The port actually bound (the free one chosen when asked for 0). */
  port: number;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * A tiny HTTP server for probes and metrics on 0.0.0.0: GET/HEAD of a known path runs its handler;
 * another path answers 404, another method 405, a handler that throws 500.
 */
export function startHttpServer(port: number, routes: Routes): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handle(routes, req, res).catch(() => res.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  let answer: RouteResponse;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    answer = { status: 405, body: 'method not allowed\n' };
  } else if (!Object.hasOwn(routes, path)) {
    answer = { status: 404, body: 'not found\n' };
  } else {
    try {
      answer = await routes[path]();
    } catch (err) {
      answer = { status: 500, body: `${err instanceof Error ? err.message : String(err)}\n` };
    }
  }
  const body = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.status, {
    'Content-Type': answer.contentType ?? TEXT,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
