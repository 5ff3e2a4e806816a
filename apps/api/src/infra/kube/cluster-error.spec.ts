import { apiError, KubeUnreachableError } from '@capp/kube';

import { toClusterError } from './kube.gateway';

const status = (code: number, reason: string, details: Record<string, unknown> = {}): string =>
  JSON.stringify({ kind: 'Status', code, reason, message: `${reason} message`, details });

describe('toClusterError: only what can heal is retried', () => {
  it.each([
    [400, 'BadRequest', {}, true],
    [403, 'Forbidden', {}, true], // RBAC, or an admission webhook's denial
    [422, 'Invalid', { causes: [{ field: 'spec.x', message: 'bad' }] }, true],
    [404, 'NotFound', { kind: 'namespaces', name: 'gone' }, true],
    [404, 'NotFound', {}, false], // the Capp kind itself: the CRD may be installed later
    [409, 'Conflict', {}, false],
    [429, 'TooManyRequests', {}, false],
    [500, 'InternalError', {}, false],
    [503, 'ServiceUnavailable', {}, false],
  ])('%i %s → permanent %s', (code, reason, details, permanent) => {
    const err = toClusterError(apiError(code, status(code, reason, details), 'PATCH', '/x'), 'apply');
    expect({ status: err.status, permanent: err.permanent }).toEqual({ status: code, permanent });
  });

  it('names the namespace of a Capp whose namespace does not exist', () => {
    const err = toClusterError(
      apiError(404, status(404, 'NotFound', { kind: 'namespaces', name: 'gone' }), 'PATCH', '/x'),
      'apply',
    );
    expect(err.causes).toEqual([
      expect.objectContaining({ field: 'metadata.namespace', reason: 'NotFound' }),
    ]);
  });

  it('retries an API server that cannot be reached', () => {
    const err = toClusterError(new KubeUnreachableError('PATCH', '/x', new Error('ECONNREFUSED')), 'apply');
    expect({ status: err.status, permanent: err.permanent }).toEqual({ status: undefined, permanent: false });
  });
});
