import { Capp, LogType, NfsVolume } from '@capp/capp-model';

import { RenderError } from './errors';

/** The Capp's name; every child name derives from it or from the hostname. */
export function cappName(capp: Capp): string {
  const name = capp.metadata?.name;
  if (!name) throw new RenderError('metadata.name is required to render a Capp', 'metadata.name');
  return name;
}

/** The Knative Service has the Capp's name (Knative's `serving.knative.dev/configuration` label = this name). */
export function knativeServiceName(capp: Capp): string {
  return cappName(capp);
}

const withoutTrailingDot = (s: string): string => (s.endsWith('.') ? s.slice(0, -1) : s);

/**
 * The fully qualified custom domain: the hostname (lowercased, without a trailing dot) when it already
 * lies in the zone — equals it or ends with `.<zone>`, on a label boundary — else `<hostname>.<zone>`.
 * The zone is given as in dns-config, with its trailing dot.
 */
export function customDomain(hostname: string, zone: string): string {
  const host = withoutTrailingDot(hostname.trim().toLowerCase());
  const bareZone = withoutTrailingDot(zone.toLowerCase());
  return host === bareZone || host.endsWith(`.${bareZone}`) ? host : `${host}.${bareZone}`;
}

/**
 * The CNAMERecord's `forProvider.name`: the custom domain relative to the zone, because provider-dns
 * appends `zone` to it ("The zone argument will be appended to this value to create the full record
 * path"). A CNAME cannot sit at the zone apex, so a hostname equal to the zone is refused.
 */
export function dnsRecordName(fqdn: string, zone: string): string {
  const bareZone = withoutTrailingDot(zone.toLowerCase());
  if (fqdn === bareZone) {
    throw new RenderError(
      `spec.routeSpec.hostname "${fqdn}" is the DNS zone itself; a CNAME record cannot be created at the zone apex`,
      'spec.routeSpec.hostname',
    );
  }
  return fqdn.endsWith(`.${bareZone}`) ? fqdn.slice(0, -(bareZone.length + 1)) : fqdn;
}

/** DomainMapping, Certificate and CNAMERecord are all named after the custom domain. */
export const domainMappingName = (fqdn: string): string => fqdn;
export const certificateName = (fqdn: string): string => fqdn;
export const cnameRecordName = (fqdn: string): string => fqdn;

/** The Secret cert-manager writes the certificate to, and the DomainMapping reads it from. */
export const tlsSecretName = (fqdn: string): string => `${fqdn}-tls`;

/** The custom domain whose TLS Secret this is (the inverse of `tlsSecretName`), or undefined. */
export const domainOfTlsSecret = (secretName: string): string | undefined =>
  secretName.endsWith('-tls') && secretName.length > 4 ? secretName.slice(0, -4) : undefined;

/** The NfsPvc takes the volume's name, and so does the PVC it creates (the pod volume's claimName). */
export const nfsPvcName = (volume: Pick<NfsVolume, 'name'>): string => volume.name;
export const claimName = nfsPvcName;

export const outputName = (capp: string, type: LogType): string => `${capp}-${type}`;
export const flowName = (capp: string): string => capp;
/** The syslog-ng backend names both after the Capp, as v0.3.5 does. */
export const syslogNGOutputName = (capp: string): string => capp;
export const syslogNGFlowName = (capp: string): string => capp;
