import { makeCapp } from '../test-fixtures';
import { makeNfsPvc } from './nfs-pvc';

describe('makeNfsPvc', () => {
  it.each([
    ['200Gi', '200Gi'],
    [1073741824, '1073741824'],
  ])('asks for a ReadWriteMany volume of the NFS export with storage %j as %j', (storage, expected) => {
    const pvc = makeNfsPvc(makeCapp(), {
      name: 'data',
      server: 'nfs.example.com',
      path: '/exports/data',
      capacity: { storage },
    });
    expect(pvc).toMatchObject({
      apiVersion: 'nfspvc.dana.io/v1alpha1',
      kind: 'NfsPvc',
      metadata: { name: 'data', namespace: 'team-a', labels: { 'rcs.dana.io/parent-capp': 'web' } },
      spec: {
        server: 'nfs.example.com',
        path: '/exports/data',
        capacity: { storage: expected },
        accessModes: ['ReadWriteMany'],
      },
    });
    expect(pvc.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Capp', name: 'web', controller: true });
  });
});
