import { DNS, makeCapp } from '../test-fixtures';
import { makeCertificate } from './certificate';

describe('makeCertificate', () => {
  it('asks the configured issuer for the custom domain, into <fqdn>-tls', () => {
    const cert = makeCertificate(makeCapp(), 'shop.apps.example.com', DNS);
    expect(cert).toMatchObject({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'shop.apps.example.com', namespace: 'team-a' },
      spec: {
        secretName: 'shop.apps.example.com-tls',
        dnsNames: ['shop.apps.example.com'],
        issuerRef: { name: 'cert-external-issuer', kind: 'ClusterIssuer', group: 'cert.dana.io' },
      },
    });
    expect(cert.metadata.ownerReferences).toHaveLength(1);
  });

  it('uses the issuer of dns-config when it names one', () => {
    const dns = { ...DNS, issuerName: 'letsencrypt', issuerKind: 'Issuer', issuerGroup: 'cert-manager.io' };
    expect(makeCertificate(makeCapp(), 'shop.apps.example.com', dns).spec?.issuerRef).toEqual({
      name: 'letsencrypt',
      kind: 'Issuer',
      group: 'cert-manager.io',
    });
  });
});
