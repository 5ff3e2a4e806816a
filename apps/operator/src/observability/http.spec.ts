import { request } from 'node:http';

import { type RunningServer, startHttpServer } from './http';
import { OperatorMetrics } from './metrics';

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startHttpServer', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('binds a free port when asked for port 0 and serves the probes', async () => {
    let synced = false;
    server = await startHttpServer(0, {
      '/healthz': async () => ({ status: 200, body: 'ok' }),
      '/readyz': async () =>
        synced ? { status: 200, body: 'ok' } : { status: 503, body: 'informers not synced: capps' },
    });
    expect(server.port).toBeGreaterThan(0);

    const health = await call(server.port, '/healthz');
    expect(health).toMatchObject({ status: 200, body: 'ok' });
    expect(health.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await call(server.port, '/readyz')).toMatchObject({
      status: 503,
      body: 'informers not synced: capps',
    });
    synced = true;
    expect(await call(server.port, '/readyz?verbose')).toMatchObject({ status: 200, body: 'ok' });
  });

  it('serves metrics in the Prometheus text format', async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    metrics.observeReconcile('success', 0.01);
    server = await startHttpServer(0, {
      '/metrics': async () => ({
        status: 200,
        body: await metrics.metricsText(),
        contentType: metrics.contentType,
      }),
    });
    const res = await call(server.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('capp_reconcile_total{result="success"} 1');
  });

  it('answers 404 for an unknown path, also one named after an object property', async () => {
    server = await startHttpServer(0, { '/healthz': async () => ({ status: 200, body: 'ok' }) });
    expect((await call(server.port, '/nope')).status).toBe(404);
    expect((await call(server.port, '/')).status).toBe(404);
    expect((await call(server.port, '/constructor')).status).toBe(404);
  });

  it('accepts only GET and HEAD, and HEAD gets no body', async () => {
    server = await startHttpServer(0, { '/healthz': async () => ({ status: 200, body: 'ok' }) });
    const post = await call(server.port, '/healthz', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    const head = await call(server.port, '/healthz', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('2');
  });

  it('answers 500 with the message when a handler fails', async () => {
    server = await startHttpServer(0, {
      '/metrics': async () => {
        throw new Error('collector broke');
      },
    });
    expect(await call(server.port, '/metrics')).toMatchObject({ status: 500, body: 'collector broke\n' });
  });

  it('rejects when the port is taken, and frees the port on close', async () => {
    server = await startHttpServer(0, {});
    const port = server.port;
    await expect(startHttpServer(port, {})).rejects.toThrow(/EADDRINUSE/);
    await server.close();
    server = await startHttpServer(port, {});
    expect(server.port).toBe(port);
  });
});
