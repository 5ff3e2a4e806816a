import { Capp, KubeObject } from '@capp/capp-model';

import { DnsConfig } from '../config';
import { childMetadata } from '../meta';
import { certificateName, tlsSecretName } from '../names';
import { CERTIFICATE } from '../resources';

export type CertificateSpec = {
  secretName: string;
  dnsNames: string[];
  issuerRef: { name: string; kind: string; group: string };
};

/** The cert-manager Certificate of the custom domain, issued by the issuer dns-config names; written to `<fqdn>-tls`. */
export function makeCertificate(capp: Capp, fqdn: string, dns: DnsConfig): KubeObject<CertificateSpec> {
  return {
    apiVersion: CERTIFICATE.apiVersion,
    kind: CERTIFICATE.kind,
    metadata: childMetadata(capp, certificateName(fqdn)),
    spec: {
      secretName: tlsSecretName(fqdn),
      dnsNames: [fqdn],
      issuerRef: { name: dns.issuerName, kind: dns.issuerKind, group: dns.issuerGroup },
    },
  };
}
