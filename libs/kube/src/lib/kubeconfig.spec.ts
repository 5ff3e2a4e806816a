import { mkdtempSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { kubeconfigSource, loadCredentials } from './kubeconfig';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-spec-'));

function kubeconfig(
  name: string,
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

async function applied(path: string): Promise<RequestOptions> {
  const opts: RequestOptions = { headers: {} };
  await loadCredentials(path).apply(opts);
  return opts;
}

describe('kubeconfig credentials without client-node', () => {
  it('reads a token, an inline CA and the server of the current context', async () => {
    const path = kubeconfig(
      'token',
      { token: 's3cret' },
      { 'certificate-authority-data': Buffer.from('CA').toString('base64') },
    );
    expect(loadCredentials(path).server).toBe('https://127.0.0.1:6443');
    const opts = await applied(path);
    expect(opts.headers).toEqual({ Authorization: 'Bearer s3cret' });
    expect(opts.ca?.toString()).toBe('CA');
    expect(opts.rejectUnauthorized).toBe(true);
  });

  it('reads files relative to the kubeconfig, again at every call (rotation)', async () => {
    writeFileSync(join(dir, 'tls.crt'), 'CERT-1');
    writeFileSync(join(dir, 'tls.key'), 'KEY-1');
    writeFileSync(join(dir, 'ca.crt'), 'CA-1');
    const path = kubeconfig(
      'files',
      { 'client-certificate': 'tls.crt', 'client-key': 'tls.key' },
      { 'certificate-authority': 'ca.crt' },
    );
    expect((await applied(path)).cert?.toString()).toBe('CERT-1');
    writeFileSync(join(dir, 'tls.crt'), 'CERT-2');
    const source = loadCredentials(path);
    const opts: RequestOptions = { headers: {} };
    await source.apply(opts);
    expect([opts.cert?.toString(), opts.key?.toString(), opts.ca?.toString()]).toEqual([
      'CERT-2',
      'KEY-1',
      'CA-1',
    ]);
  });

  it('reads a token file and skips TLS verification only when the kubeconfig says so', async () => {
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const opts = await applied(
      kubeconfig('token-file', { tokenFile: 'token' }, { 'insecure-skip-tls-verify': true }),
    );
    expect(opts.headers).toEqual({ Authorization: 'Bearer from-file' });
    expect(opts.rejectUnauthorized).toBe(false);
  });

  it('hands exec plugins to client-node (and only them)', () => {
    const exec = kubeconfig('exec', {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' },
    });
    expect(kubeconfigSource(exec)).toBeUndefined();
    expect(kubeconfigSource(kubeconfig('plain', { token: 't' }))).toBeDefined();
  });

  it('names the file when it has no current context', () => {
    const path = join(dir, 'empty');
    writeFileSync(path, 'apiVersion: v1\nkind: Config\n');
    expect(() => loadCredentials(path)).toThrow(`${path}: no current context`);
  });
});
