import type { Capp, CappStatus } from '@capp/capp-model';
import { statusEqual } from '@capp/knative-adapter';

import type { ClientPort } from './ports';

/**
 * Applies a Capp's status (the status subresource, this operator's field manager) unless it equals the
 * stored one; true when it wrote. `status.scopes` is the HealthScope controller's (its own field
 * manager): carried in the comparison, never applied here, so this manager never co-owns (and so
 * never keeps) it.
 */
export async function applyCappStatus(client: ClientPort, capp: Capp, status: CappStatus): Promise<boolean> {
  if (statusEqual(status, capp.status)) return false;
  const owned: CappStatus = { ...status };
  delete owned.scopes;
  await client.apply(
    {
      apiVersion: capp.apiVersion,
      kind: capp.kind,
      metadata: { name: capp.metadata.name, namespace: capp.metadata.namespace },
      status: owned,
    },
    { subresource: 'status' },
  );
  return true;
}
