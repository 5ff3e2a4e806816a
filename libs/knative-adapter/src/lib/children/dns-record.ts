import { Capp, KubeObject } from '@capp/capp-model';

import { DnsConfig } from '../config';
import { childMetadata } from '../meta';
import { cnameRecordName, dnsRecordName } from '../names';
import { CNAME_RECORD } from '../resources';

export type CNAMERecordSpec = {
  forProvider: { name: string; zone: string; cname: string };
  providerConfigRef: { name: string };
};

/**
 * The provider-dns CNAMERecord pointing the custom domain at the ingress (`cname` of dns-config).
 * `forProvider.name` is relative to the zone, which provider-dns appends to it. Cluster-scoped: no
 * namespace and no ownerReference; a label carries the Capp's namespace.
 */
export function makeCNAMERecord(capp: Capp, fqdn: string, dns: DnsConfig): KubeObject<CNAMERecordSpec> {
  return {
    apiVersion: CNAME_RECORD.apiVersion,
    kind: CNAME_RECORD.kind,
    metadata: childMetadata(capp, cnameRecordName(fqdn), { clusterScoped: true }),
    spec: {
      forProvider: { name: dnsRecordName(fqdn, dns.zone), zone: dns.zone, cname: dns.cname },
      providerConfigRef: { name: dns.providerConfigName },
    },
  };
}
