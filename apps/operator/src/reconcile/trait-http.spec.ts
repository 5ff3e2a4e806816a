import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import pino from 'pino';

import { TraitHttpClient, TraitHttpRefused } from './trait-http';

describe('TraitHttpClient (processing.http of traits) against a local HTTP server', () => {
  let server: Server;
  let host: string;
  const seen: IncomingMessage[] = [];
  let answer: { status: number; body: string; delayMs?: number } = {
    status: 200,
    body: '{"serviceAccountName":"sa-1"}',
  };
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(l) });

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body);
      }, answer.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
    lines.length = 0;
    answer = { status: 200, body: '{"serviceAccountName":"sa-1"}' };
  });

  const request = (query = 'team=a') => ({
    trait: 'service-account',
    url: `http://${host}/sa?${query}`,
    headers: { authorization: 'Bearer s3cret' },
  });

  it('GETs an allowed host with the headers and answers the JSON', async () => {
    const client = new TraitHttpClient({ allowedHosts: [host], logger });
    expect(await client.fetch(request())).toEqual({ serviceAccountName: 'sa-1' });
    expect(seen.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['GET', '/sa?team=a', 'Bearer s3cret'],
    ]);
  });

  it('refuses a host that is not allowed, without asking it', async () => {
    const client = new TraitHttpClient({ allowedHosts: ['identity.example.com'], logger });
    await expect(client.fetch(request())).rejects.toThrow(TraitHttpRefused);
    await expect(client.fetch(request())).rejects.toThrow(`host "${host}" is not allowed`);
    expect(seen).toEqual([]);
  });

  it('keeps an answer per (trait, request) for its TTL, then asks again', async () => {
    let now = 1_000_000;
    const client = new TraitHttpClient({ allowedHosts: [host], logger, now: () => now });
    await client.fetch({ ...request(), ttlSeconds: 60 });
    await client.fetch({ ...request(), ttlSeconds: 60 });
    await client.fetch({ ...request('team=b'), ttlSeconds: 60 });
    expect(seen).toHaveLength(2);
    now += 61_000;
    await client.fetch({ ...request(), ttlSeconds: 60 });
    expect(seen).toHaveLength(3);
  });

  it('fails after its timeout, and on an error status, without the query or headers in the message or log', async () => {
    const client = new TraitHttpClient({ allowedHosts: [host], logger });
    answer = { status: 200, body: '{}', delayMs: 1500 };
    await expect(client.fetch({ ...request('token=abc'), timeoutSeconds: 1 })).rejects.toThrow(
      `GET http://${host}/sa timed out after 1 s`,
    );
    answer = { status: 503, body: 'down' };
    await expect(client.fetch(request('token=abc'))).rejects.toThrow(`GET http://${host}/sa answered 503`);
    expect(lines.join('')).not.toMatch(/abc|s3cret/);
    expect(lines.length).toBeGreaterThan(0);
  });
});
