// The API's calls to the API server reuse one keep-alive connection instead of a TLS handshake each.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

import { cluster } from '../../testing/api-fixture';
import { KubeGateway } from './kube.gateway';
import { PooledKubeConfig } from './pooled-kube-config';

/** A kubeconfig for the test cluster with the CA bundle given inline. */
function kubeConfigWithCa(caPem: string): PooledKubeConfig {
  const env = cluster();
  const kc = new PooledKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: env.server ?? '', caData: Buffer.from(caPem).toString('base64') }],
    users: [{ name: 'admin', token: env.adminToken }],
    contexts: [{ name: 'test', cluster: 'test', user: 'admin' }],
    currentContext: 'test',
  });
  return kc;
}

describe('PooledKubeConfig (against the real API server)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('serves sequential calls over one TLS connection', async () => {
    const gateway = KubeGateway.fromKubeconfig(cluster().kubeconfigPath);
    const connect = jest.spyOn(tls, 'connect');
    try {
      for (let i = 0; i < 5; i++) await gateway.ping();
      expect(connect).toHaveBeenCalledTimes(1);
    } finally {
      gateway.onApplicationShutdown();
    }
  });

  it('connects anew when the TLS credentials change (a rotated CA bundle)', async () => {
    const ca = readFileSync(cluster().caFile ?? '', 'utf8');
    const kc = kubeConfigWithCa(ca);
    const gateway = new KubeGateway(kc);
    const connect = jest.spyOn(tls, 'connect');
    try {
      await gateway.ping();
      await gateway.ping();
      expect(connect).toHaveBeenCalledTimes(1);

      // The bundle now carries the old CA and a "new" one (here: the same certificate again).
      kc.clusters[0] = { ...kc.clusters[0], caData: Buffer.from(`${ca}\n${ca}`).toString('base64') };
      await gateway.ping();
      await gateway.ping();
      expect(connect).toHaveBeenCalledTimes(2);
    } finally {
      gateway.onApplicationShutdown();
    }
  });
});
