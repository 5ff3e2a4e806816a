import { Capp, KubeObject, LOG_TYPE_REQUIRED_FIELDS, LogSpec, LogType } from '@capp/capp-model';

import { RenderError } from '../errors';
import { childMetadata } from '../meta';
import { cappName, flowName, outputName } from '../names';
import { LOGGING_FLOW, LOGGING_OUTPUT } from '../resources';

/** Key of the password in the Secret `logSpec.passwordSecret` names (elastic). */
export const PASSWORD_SECRET_KEY = 'password';
/** Key of the HEC token in the Secret `logSpec.hecTokenSecret` names (splunk). */
export const HEC_TOKEN_SECRET_KEY = 'token';
export const ELASTICSEARCH_PORT = 9200;
export const SPLUNK_HEC_PORT = 8088;
/** Label Knative puts on every pod of a Capp's revisions; the Flow selects the Capp's logs by it. */
export const LABEL_KNATIVE_CONFIGURATION = 'serving.knative.dev/configuration';

/** A logging-operator secret reference: the Output reads the value from the Secret, never from the Capp. */
export type SecretValue = { valueFrom: { secretKeyRef: { name: string; key: string } } };

export type OutputSpec =
  | {
      elasticsearch: {
        host: string;
        port: number;
        scheme: 'https';
        ssl_verify: boolean;
        index_name: string;
        user: string;
        password: SecretValue;
      };
    }
  | {
      splunkHec: {
        hec_host: string;
        hec_port: number;
        protocol: 'https';
        index: string;
        hec_token: SecretValue;
      };
    };

export type FlowSpec = {
  match: Array<{ select: { labels: Record<string, string> } }>;
  localOutputRefs: string[];
};

export const secretValue = (name: string, key: string): SecretValue => ({
  valueFrom: { secretKeyRef: { name, key } },
});

/** The log fields `type` needs (the schema requires them; a Capp that skipped validation is refused here). */
export function requiredLogFields(log: LogSpec, type: LogType): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of LOG_TYPE_REQUIRED_FIELDS[type]) {
    const value = log[field];
    if (typeof value !== 'string' || value === '') {
      throw new RenderError(`${field} is required when logSpec.type is "${type}"`, `spec.logSpec.${field}`);
    }
    fields[field] = value;
  }
  return fields;
}

/**
 * The logging-operator Output shipping the Capp's logs: `elasticsearch` (https on 9200, certificate
 * verified, password from `passwordSecret`) or `splunkHec` (https on 8088, token from `hecTokenSecret`).
 */
export function makeOutput(capp: Capp, log: LogSpec & { type: LogType }): KubeObject<OutputSpec> {
  const f = requiredLogFields(log, log.type);
  const spec: OutputSpec =
    log.type === 'elastic'
      ? {
          elasticsearch: {
            host: f['host'],
            port: ELASTICSEARCH_PORT,
            scheme: 'https',
            ssl_verify: true,
            index_name: f['index'],
            user: f['user'],
            password: secretValue(f['passwordSecret'], PASSWORD_SECRET_KEY),
          },
        }
      : {
          splunkHec: {
            hec_host: f['host'],
            hec_port: SPLUNK_HEC_PORT,
            protocol: 'https',
            index: f['index'],
            hec_token: secretValue(f['hecTokenSecret'], HEC_TOKEN_SECRET_KEY),
          },
        };
  return {
    apiVersion: LOGGING_OUTPUT.apiVersion,
    kind: LOGGING_OUTPUT.kind,
    metadata: childMetadata(capp, outputName(cappName(capp), log.type)),
    spec,
  };
}

/** The Flow selecting the pods of the Capp's revisions and sending their logs to its Output. */
export function makeFlow(capp: Capp, type: LogType): KubeObject<FlowSpec> {
  const name = cappName(capp);
  return {
    apiVersion: LOGGING_FLOW.apiVersion,
    kind: LOGGING_FLOW.kind,
    metadata: childMetadata(capp, flowName(name)),
    spec: {
      match: [{ select: { labels: { [LABEL_KNATIVE_CONFIGURATION]: name } } }],
      localOutputRefs: [outputName(name, type)],
    },
  };
}
