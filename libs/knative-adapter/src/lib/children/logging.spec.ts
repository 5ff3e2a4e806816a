import { LogSpec, LogType } from '@capp/capp-model';

import { RenderError } from '../errors';
import { makeCapp } from '../test-fixtures';
import { makeFlow, makeOutput } from './logging';

const elastic = {
  type: 'elastic',
  host: 'es.example.com',
  index: 'main',
  user: 'elastic',
  passwordSecret: 'es-pass',
} as const;
const splunk = {
  type: 'splunk',
  host: 'hec.example.com',
  index: 'apps',
  hecTokenSecret: 'hec-token',
} as const;

describe('makeOutput', () => {
  it('ships elastic logs over https to port 9200, reading the password from the Secret', () => {
    expect(makeOutput(makeCapp(), elastic)).toMatchObject({
      apiVersion: 'logging.banzaicloud.io/v1beta1',
      kind: 'Output',
      metadata: { name: 'web-elastic', namespace: 'team-a' },
      spec: {
        elasticsearch: {
          host: 'es.example.com',
          port: 9200,
          scheme: 'https',
          ssl_verify: true,
          index_name: 'main',
          user: 'elastic',
          password: { valueFrom: { secretKeyRef: { name: 'es-pass', key: 'password' } } },
        },
      },
    });
  });

  it('ships splunk logs to the HEC over https on 8088, reading the token from the Secret', () => {
    expect(makeOutput(makeCapp(), splunk)).toMatchObject({
      metadata: { name: 'web-splunk' },
      spec: {
        splunkHec: {
          hec_host: 'hec.example.com',
          hec_port: 8088,
          protocol: 'https',
          index: 'apps',
          hec_token: { valueFrom: { secretKeyRef: { name: 'hec-token', key: 'token' } } },
        },
      },
    });
  });

  it.each([elastic, splunk])('never carries a literal secret value (%j)', (log) => {
    const text = JSON.stringify(makeOutput(makeCapp(), log));
    expect(text).not.toMatch(/"value"\s*:/);
    expect(text).toMatch(/secretKeyRef/);
  });

  it.each<[LogSpec & { type: LogType }, string]>([
    [{ ...elastic, passwordSecret: undefined }, 'passwordSecret is required when logSpec.type is "elastic"'],
    [{ ...splunk, hecTokenSecret: '' }, 'hecTokenSecret is required when logSpec.type is "splunk"'],
  ])('refuses a log spec missing a field its type needs: %s', (log, message) => {
    expect(() => makeOutput(makeCapp(), log)).toThrow(RenderError);
    expect(() => makeOutput(makeCapp(), log)).toThrow(message);
  });
});

describe('makeFlow', () => {
  it("selects the Capp's revision pods by their Knative configuration label and sends them to its Output", () => {
    expect(makeFlow(makeCapp(), 'splunk')).toMatchObject({
      apiVersion: 'logging.banzaicloud.io/v1beta1',
      kind: 'Flow',
      metadata: { name: 'web', namespace: 'team-a' },
      spec: {
        match: [{ select: { labels: { 'serving.knative.dev/configuration': 'web' } } }],
        localOutputRefs: ['web-splunk'],
      },
    });
  });
});
