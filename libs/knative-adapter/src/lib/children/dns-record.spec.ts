import { DNS, makeCapp } from '../test-fixtures';
import { makeCNAMERecord } from './dns-record';

describe('makeCNAMERecord', () => {
  it("is cluster-scoped: no namespace, no ownerReference, the Capp's namespace under v0.3.5's label key and ours", () => {
    expect(makeCNAMERecord(makeCapp(), 'shop.apps.example.com', DNS).metadata).toEqual({
      name: 'shop.apps.example.com',
      labels: {
        'rcs.dana.io/parent-capp': 'web',
        'app.kubernetes.io/managed-by': 'capp-operator',
        'rcs.dana.io/managed-by': 'capp',
        'rcs.dana.io/parent-capp-ns': 'team-a',
        'rcs.dana.io/parent-capp-namespace': 'team-a',
      },
    });
  });

  it('points the record, named relative to the zone, at the dns-config cname through its provider config', () => {
    expect(
      makeCNAMERecord(makeCapp(), 'shop.apps.example.com', { ...DNS, providerConfigName: 'corp-dns' }),
    ).toMatchObject({
      apiVersion: 'record.dns.crossplane.io/v1alpha1',
      kind: 'CNAMERecord',
      spec: {
        forProvider: { name: 'shop', zone: 'apps.example.com.', cname: 'ingress.example.com.' },
        providerConfigRef: { name: 'corp-dns' },
      },
    });
  });
});
