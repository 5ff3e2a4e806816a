import { Capp, KubeObject } from '@capp/capp-model';

import { childMetadata } from '../meta';
import { domainMappingName, knativeServiceName, tlsSecretName } from '../names';
import { DOMAIN_MAPPING, KNATIVE_SERVICE } from '../resources';

export type DomainMappingSpec = {
  ref: { apiVersion: string; kind: string; name: string };
  tls?: { secretName: string };
};

/**
 * The DomainMapping of the custom domain `fqdn` to the Capp's Knative Service. `tls` names the
 * certificate's Secret only once that Secret exists (`tlsSecretReady`): Knative would otherwise
 * report the mapping failed until cert-manager has issued it.
 */
export function makeDomainMapping(
  capp: Capp,
  fqdn: string,
  options: { tlsEnabled: boolean; tlsSecretReady: boolean },
): KubeObject<DomainMappingSpec> {
  const spec: DomainMappingSpec = {
    ref: {
      apiVersion: KNATIVE_SERVICE.apiVersion,
      kind: KNATIVE_SERVICE.kind,
      name: knativeServiceName(capp),
    },
  };
  if (options.tlsEnabled && options.tlsSecretReady) spec.tls = { secretName: tlsSecretName(fqdn) };
  return {
    apiVersion: DOMAIN_MAPPING.apiVersion,
    kind: DOMAIN_MAPPING.kind,
    metadata: childMetadata(capp, domainMappingName(fqdn)),
    spec,
  };
}
