import { makeCapp, UID } from '../test-fixtures';
import { makeDomainMapping } from './domain-mapping';

describe('makeDomainMapping', () => {
  const fqdn = 'shop.apps.example.com';

  it('maps the custom domain to the Knative Service of the Capp', () => {
    expect(makeDomainMapping(makeCapp(), fqdn, { tlsEnabled: false, tlsSecretReady: false })).toEqual({
      apiVersion: 'serving.knative.dev/v1beta1',
      kind: 'DomainMapping',
      metadata: {
        name: fqdn,
        namespace: 'team-a',
        labels: {
          'rcs.dana.io/parent-capp': 'web',
          'app.kubernetes.io/managed-by': 'capp-operator',
          'rcs.dana.io/managed-by': 'capp',
        },
        ownerReferences: [
          {
            apiVersion: 'rcs.dana.io/v1alpha1',
            kind: 'Capp',
            name: 'web',
            uid: UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'web' } },
    });
  });

  it.each([
    [false, false, undefined],
    [false, true, undefined],
    [true, false, undefined],
    [true, true, { secretName: 'shop.apps.example.com-tls' }],
  ])(
    'with tlsEnabled=%s and the Secret ready=%s, names the TLS Secret: %j',
    (tlsEnabled, tlsSecretReady, tls) => {
      expect(makeDomainMapping(makeCapp(), fqdn, { tlsEnabled, tlsSecretReady }).spec?.tls).toEqual(tls);
    },
  );
});
