import { KNATIVE_SERVICE } from '@capp/knative-adapter';
import type { ResourceType } from '@capp/kube';
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

describe('ClusterCache on a real API server', () => {
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
      await cache.start({
        cappChanged: () => undefined,
        cappDeleted: () => undefined,
        childChanged: () => undefined,
        configChanged: () => undefined,
        traitChanged: () => undefined,
        namespaceChanged: () => undefined,
      });
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
