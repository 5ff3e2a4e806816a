import { Capp, DEFAULT_STATE, LogType } from '@capp/capp-model';

import { makeCertificate } from './children/certificate';
import { makeCNAMERecord } from './children/dns-record';
import { makeDomainMapping } from './children/domain-mapping';
import { makeKnativeService } from './children/knative-service';
import { makeFlow, makeOutput } from './children/logging';
import { makeNfsPvc } from './children/nfs-pvc';
import { makeSyslogNGFlow, makeSyslogNGOutput } from './children/syslog-ng';
import { AutoscaleDefaults, DNS_CONFIGMAP, DnsConfig } from './config';
import { ConfigError } from './errors';
import { cappName, customDomain } from './names';
import { DEFAULT_LOGGING_BACKEND, LoggingBackend } from './resources';
import { DesiredChild } from './types';

export interface RenderConfig {
  autoscale: AutoscaleDefaults;
  /** From ConfigMap dns-config; required as soon as a Capp sets `routeSpec.hostname`. */
  dns?: DnsConfig;
  /** The platform's logging pipeline (default `fluentd`: Flow and Output). */
  loggingBackend?: LoggingBackend;
}

/** What the operator has seen of the cluster that changes the render. */
export interface RenderObservations {
  /** The Certificate's Secret (`<fqdn>-tls`) exists: the DomainMapping may name it. */
  tlsSecretReady?: boolean;
}

/** The custom domain (FQDN) of the Capp, or undefined without `routeSpec.hostname`. Throws without dns-config. */
export function cappDomain(capp: Capp, dns: DnsConfig | undefined): string | undefined {
  const hostname = capp.spec.routeSpec?.hostname;
  if (!hostname) return undefined;
  if (!dns) {
    const where = capp.metadata.namespace ? `${capp.metadata.namespace}/${cappName(capp)}` : cappName(capp);
    throw new ConfigError(
      `ConfigMap ${DNS_CONFIGMAP} is required: Capp ${where} sets routeSpec.hostname "${hostname}", ` +
        'which needs the DNS zone and CNAME target it holds',
      DNS_CONFIGMAP,
    );
  }
  return customDomain(hostname, dns.zone);
}

/** True unless the Capp is disabled (`state` defaults to enabled). */
export function isEnabled(capp: Capp): boolean {
  return (capp.spec.state ?? DEFAULT_STATE) === 'enabled';
}

/**
 * Everything a Capp turns into (DESIGN §3), in apply order (DESIGN §4): Knative Service (when enabled),
 * one NfsPvc per volume, Output and Flow (when logging is set; SyslogNGOutput and SyslogNGFlow with
 * the syslog-ng backend), Certificate (TLS), DomainMapping and
 * CNAMERecord (custom hostname). Pure: the Capp is not modified, and equal inputs give equal outputs.
 * Throws ConfigError when the Capp needs dns-config and there is none, RenderError when the Capp
 * itself cannot be rendered.
 */
export function renderChildren(
  capp: Capp,
  config: RenderConfig,
  observed: RenderObservations = {},
): DesiredChild[] {
  cappName(capp); // every child is named after the Capp or owned by it: refuse a nameless one up front
  const spec = capp.spec;
  const children: DesiredChild[] = [];
  const fqdn = cappDomain(capp, config.dns);

  if (isEnabled(capp)) children.push(makeKnativeService(capp, config.autoscale));
  for (const volume of spec.volumesSpec?.nfsVolumes ?? []) children.push(makeNfsPvc(capp, volume));

  const logType: LogType | undefined = spec.logSpec?.type;
  if (spec.logSpec && logType) {
    const log = { ...spec.logSpec, type: logType };
    if ((config.loggingBackend ?? DEFAULT_LOGGING_BACKEND) === 'syslog-ng')
      children.push(makeSyslogNGOutput(capp, log), makeSyslogNGFlow(capp));
    else children.push(makeOutput(capp, log), makeFlow(capp, logType));
  }

  if (fqdn !== undefined && config.dns) {
    const tlsEnabled = spec.routeSpec?.tlsEnabled === true;
    if (tlsEnabled) children.push(makeCertificate(capp, fqdn, config.dns));
    children.push(
      makeDomainMapping(capp, fqdn, { tlsEnabled, tlsSecretReady: observed.tlsSecretReady === true }),
      makeCNAMERecord(capp, fqdn, config.dns),
    );
  }
  return children;
}
