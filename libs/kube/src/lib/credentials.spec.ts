/**
 * Connection reuse and credential rotation against the real API server started by the libs/testing
 * globalSetup (`KUBECONFIG`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

import { KubeConfig } from '@kubernetes/client-node';

import { KubeRest } from './rest';

const kubeconfigPath = process.env['KUBECONFIG'] ?? '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A kubeconfig like the test cluster's, whose CA bundle is a file of our own (the one rotated). */
function kubeconfigWithOwnCaFile(dir: string): { path: string; caFile: string; ca: string } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster?.caFile || !user?.token) throw new Error(`${kubeconfigPath}: expected a CA file and a token`);
  const ca = readFileSync(cluster.caFile, 'utf8');
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ca);
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority': caFile } }],
      users: [{ name: 'admin', user: { token: user.token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin' } }],
      'current-context': 'test',
    }),
  );
  return { path, caFile, ca };
}

describe('KubeCredentials (against the real API server)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-credentials-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves sequential requests over one TLS connection', async () => {
    const rest = KubeRest.fromKubeconfig(kubeconfigPath);
    const connect = jest.spyOn(tls, 'connect');
    try {
      for (let i = 0; i < 5; i++) await rest.request('GET', '/version');
      expect(connect).toHaveBeenCalledTimes(1);
    } finally {
      rest.close();
    }
  });

  it('connects anew once the CA bundle file is rotated, and keeps working', async () => {
    const { path, caFile, ca } = kubeconfigWithOwnCaFile(dir);
    const rest = KubeRest.fromKubeconfig(path);
    const connect = jest.spyOn(tls, 'connect');
    try {
      await rest.request('GET', '/version');
      await rest.request('GET', '/version');
      expect(connect).toHaveBeenCalledTimes(1);

      // The bundle now carries the old CA and a "new" one (here: the same certificate again).
      writeFileSync(caFile, `${ca}\n${ca}`);
      await sleep(1100); // credentials are re-read at most once a second
      await rest.request('GET', '/version');
      await rest.request('GET', '/version');
      expect(connect).toHaveBeenCalledTimes(2);
    } finally {
      rest.close();
    }
  });
});
