import { Capp, KubeObject, LogSpec, LogType } from '@capp/capp-model';

import { childMetadata } from '../meta';
import { cappName, syslogNGFlowName, syslogNGOutputName } from '../names';
import { SYSLOG_NG_FLOW, SYSLOG_NG_OUTPUT } from '../resources';
import {
  ELASTICSEARCH_PORT,
  HEC_TOKEN_SECRET_KEY,
  LABEL_KNATIVE_CONFIGURATION,
  requiredLogFields,
  SecretValue,
  secretValue,
  SPLUNK_HEC_PORT,
} from './logging';

/** Key of the password in the `passwordSecret` Secret with the syslog-ng backend (v0.3.5's key). */
export const SYSLOG_NG_PASSWORD_SECRET_KEY = 'elastic';
/** v0.3.5's Elasticsearch document template: the record as JSON, nested keys split on `#`. */
export const SYSLOG_NG_ELASTIC_TEMPLATE = '$(format-json --subkeys json# --key-delimiter #)';
/** Where syslog-ng finds the Knative configuration label in a record (keys joined by `#`). */
const KNATIVE_CONFIGURATION_VALUE = `json#kubernetes#labels#${LABEL_KNATIVE_CONFIGURATION}`;

export type SyslogNGOutputSpec =
  | {
      elasticsearch: {
        url: string;
        index: string;
        user: string;
        password: SecretValue;
        template: string;
        tls: { peer_verify: boolean; ssl_version: string };
      };
    }
  | { splunk_hec_event: { url: string; index: string; token: SecretValue } };

export type SyslogNGFlowSpec = {
  match: { regexp: { pattern: string; type: 'string'; value: string } };
  localOutputRefs: string[];
};

/** A host with a scheme is a URL already (v0.3.5 used `host` as the URL as it is); a bare one gets https. */
const urlOf = (host: string, port: number, path = ''): string =>
  host.includes('://') ? host : `https://${host}:${port}${path}`;

/**
 * The SyslogNGOutput of the Capp, named after it. Elastic as v0.3.5 writes it: the bulk API at
 * `host` (`https://<host>:9200/_bulk` when `host` has no scheme), the password from key `elastic` of
 * `passwordSecret`, TLS 1.2 without peer verification, v0.3.5's JSON template. Splunk (which v0.3.5
 * did not offer with syslog-ng): HEC events to `https://<host>:8088`, the token from `hecTokenSecret`.
 */
export function makeSyslogNGOutput(
  capp: Capp,
  log: LogSpec & { type: LogType },
): KubeObject<SyslogNGOutputSpec> {
  const f = requiredLogFields(log, log.type);
  const spec: SyslogNGOutputSpec =
    log.type === 'elastic'
      ? {
          elasticsearch: {
            url: urlOf(f['host'], ELASTICSEARCH_PORT, '/_bulk'),
            index: f['index'],
            user: f['user'],
            password: secretValue(f['passwordSecret'], SYSLOG_NG_PASSWORD_SECRET_KEY),
            template: SYSLOG_NG_ELASTIC_TEMPLATE,
            tls: { peer_verify: false, ssl_version: 'tlsv1_2' },
          },
        }
      : {
          splunk_hec_event: {
            url: urlOf(f['host'], SPLUNK_HEC_PORT),
            index: f['index'],
            token: secretValue(f['hecTokenSecret'], HEC_TOKEN_SECRET_KEY),
          },
        };
  return {
    apiVersion: SYSLOG_NG_OUTPUT.apiVersion,
    kind: SYSLOG_NG_OUTPUT.kind,
    metadata: childMetadata(capp, syslogNGOutputName(cappName(capp))),
    spec,
  };
}

/** The SyslogNGFlow sending the records of the Capp's pods (by Knative's configuration label) to its output. */
export function makeSyslogNGFlow(capp: Capp): KubeObject<SyslogNGFlowSpec> {
  const name = cappName(capp);
  return {
    apiVersion: SYSLOG_NG_FLOW.apiVersion,
    kind: SYSLOG_NG_FLOW.kind,
    metadata: childMetadata(capp, syslogNGFlowName(name)),
    spec: {
      match: { regexp: { pattern: name, type: 'string', value: KNATIVE_CONFIGURATION_VALUE } },
      localOutputRefs: [syslogNGOutputName(name)],
    },
  };
}
