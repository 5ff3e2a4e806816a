import { LABEL_MANAGED_BY, LABEL_PARENT_CAPP } from '@capp/capp-model';

import { RenderError } from '../errors';
import { CHILD_KINDS, childKindsFor } from '../resources';
import { makeCapp, UID } from '../test-fixtures';
import { makeSyslogNGFlow, makeSyslogNGOutput } from './syslog-ng';

const elastic = {
  type: 'elastic',
  host: '1.2.3.4',
  index: 'main',
  user: 'elastic',
  passwordSecret: 'credentials',
} as const;

describe('makeSyslogNGOutput', () => {
  it('ships elastic logs as container-app-operator v0.3.5 does: named after the Capp, password from key "elastic"', () => {
    const output = makeSyslogNGOutput(makeCapp(), elastic);
    expect(output).toEqual({
      apiVersion: 'logging.banzaicloud.io/v1beta1',
      kind: 'SyslogNGOutput',
      metadata: {
        name: 'web',
        namespace: 'team-a',
        labels: {
          [LABEL_PARENT_CAPP]: 'web',
          [LABEL_MANAGED_BY]: 'capp-operator',
          'rcs.dana.io/managed-by': 'capp',
        },
        ownerReferences: [expect.objectContaining({ kind: 'Capp', name: 'web', uid: UID, controller: true })],
      },
      spec: {
        elasticsearch: {
          url: 'https://1.2.3.4:9200/_bulk',
          index: 'main',
          user: 'elastic',
          password: { valueFrom: { secretKeyRef: { name: 'credentials', key: 'elastic' } } },
          template: '$(format-json --subkeys json# --key-delimiter #)',
          tls: { peer_verify: false, ssl_version: 'tlsv1_2' },
        },
      },
    });
  });

  it('takes a host with a scheme as the URL as it is (as v0.3.5 took every host)', () => {
    const output = makeSyslogNGOutput(makeCapp(), { ...elastic, host: 'http://es.internal:9201/_bulk' });
    expect(output.spec).toMatchObject({ elasticsearch: { url: 'http://es.internal:9201/_bulk' } });
  });

  it('ships splunk logs as HEC events over https to port 8088, the token from the Secret', () => {
    const output = makeSyslogNGOutput(makeCapp(), {
      type: 'splunk',
      host: 'hec.example.com',
      index: 'apps',
      hecTokenSecret: 'hec-token',
    });
    expect(output.spec).toEqual({
      splunk_hec_event: {
        url: 'https://hec.example.com:8088',
        index: 'apps',
        token: { valueFrom: { secretKeyRef: { name: 'hec-token', key: 'token' } } },
      },
    });
  });

  it('refuses a log spec without the fields its type needs, naming the field', () => {
    expect(() => makeSyslogNGOutput(makeCapp(), { ...elastic, index: '' })).toThrow(RenderError);
    expect(() => makeSyslogNGOutput(makeCapp(), { ...elastic, index: '' })).toThrow('index is required');
  });
});

describe('makeSyslogNGFlow', () => {
  it("matches the Capp's pods by Knative's configuration label and sends them to its output, as v0.3.5", () => {
    expect(makeSyslogNGFlow(makeCapp())).toMatchObject({
      apiVersion: 'logging.banzaicloud.io/v1beta1',
      kind: 'SyslogNGFlow',
      metadata: { name: 'web', namespace: 'team-a', labels: { [LABEL_PARENT_CAPP]: 'web' } },
      spec: {
        match: {
          regexp: {
            pattern: 'web',
            type: 'string',
            value: 'json#kubernetes#labels#serving.knative.dev/configuration',
          },
        },
        localOutputRefs: ['web'],
      },
    });
  });
});

describe('childKindsFor', () => {
  const kinds = (backend: 'fluentd' | 'syslog-ng'): string[] => childKindsFor(backend).map((k) => k.kind);

  it("leaves out the other backend's logging kinds, keeping the apply order", () => {
    expect(kinds('fluentd')).toEqual([
      'Service',
      'NfsPvc',
      'Output',
      'Flow',
      'Certificate',
      'DomainMapping',
      'CNAMERecord',
    ]);
    expect(kinds('syslog-ng')).toEqual([
      'Service',
      'NfsPvc',
      'SyslogNGOutput',
      'SyslogNGFlow',
      'Certificate',
      'DomainMapping',
      'CNAMERecord',
    ]);
    expect(CHILD_KINDS).toHaveLength(9);
  });
});
