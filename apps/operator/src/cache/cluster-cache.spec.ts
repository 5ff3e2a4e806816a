import { CAPP_API_VERSION } from '@capp/capp-model';
import { KNATIVE_SERVICE } from '@capp/knative-adapter';
import { CAPP_TRAIT_TYPE, KubeClient, type ResourceType } from '@capp/kube';
import Ajv2020 from 'ajv/dist/2020';
import pino from 'pino';

import { adminRest, suffix } from '../testing/cluster-fixture';
import { ClusterCache } from './cluster-cache';

/** Log lines, parsed, as pino writes them. */
function memoryLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        for (const line of s.split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

const listener = {
  cappChanged: () => undefined,
  cappDeleted: () => undefined,
  childChanged: () => undefined,
  configChanged: () => undefined,
  traitChanged: () => undefined,
  namespaceChanged: () => undefined,
};

describe('ClusterCache on a real API server', () => {
  it("compiles the CappTraits it finds before it reports synced, not in their users' first reconciles", async () => {
    const rest = adminRest();
    const client = new KubeClient(rest, { fieldManager: 'cluster-cache-spec' });
    const name = `it-prepared-${suffix()}`;
    // A schema of this test's own (the compiled validators are cached per schema text).
    const parameters = { type: 'object', properties: { [name]: { type: 'string' } } };
    await client.apply({
      apiVersion: CAPP_API_VERSION,
      kind: 'CappTrait',
      metadata: { name },
      spec: { parameters, patch: { template: '{"metadata": {"labels": {"a": "b"}}}' } },
    } as never);
    const compile = jest.spyOn(Ajv2020.prototype, 'compile');
    const { logger, lines } = memoryLogger();
    const cache = new ClusterCache(rest, { namespaces: ['a'], operatorNamespace: 'capp-system' }, logger);
    try {
      await cache.start(listener);
      expect(cache.trait(name)).toBeDefined();
      expect(compile).toHaveBeenCalledWith(expect.objectContaining({ properties: parameters.properties }));
      expect(lines.filter((l) => l['event'] === 'trait-invalid' && l['trait'] === name)).toEqual([]);
    } finally {
      compile.mockRestore();
      await cache.stop();
      await client.delete(CAPP_TRAIT_TYPE, undefined, name);
      rest.close();
    }
  });

  it('starts, synced, when a child kind is not served (its CRD is absent), and says so once per kind', async () => {
    const rest = adminRest();
    const absent: ResourceType = {
      apiVersion: `absent-${suffix()}.capp.test/v1`,
      kind: 'Nothing',
      plural: 'nothings',
      namespaced: true,
    };
    const { logger, lines } = memoryLogger();
    const cache = new ClusterCache(
      rest,
      { namespaces: ['a', 'b'], operatorNamespace: 'capp-system', childKinds: [KNATIVE_SERVICE, absent] },
      logger,
    );
    try {
      await cache.start(listener);
      expect(cache.synced).toBe(true);
      expect(cache.child(absent, 'a', 'x')).toBeUndefined();
      expect(lines.filter((l) => l['event'] === 'kind-not-served')).toEqual([
        expect.objectContaining({ level: 40, resource: 'nothings', apiVersion: absent.apiVersion }),
      ]);
      expect(lines.filter((l) => l['event'] === 'watch-error')).toEqual([]);
    } finally {
      await cache.stop();
      rest.close();
    }
  });
});
