import { LABEL_PARENT_CAPP } from '@capp/capp-model';
import {
  type ChildKind,
  LOGGING_FLOW as FLOW,
  LOGGING_OUTPUT as OUTPUT,
  SYSLOG_NG_FLOW,
  SYSLOG_NG_OUTPUT,
} from '@capp/knative-adapter';
import { CAPP_TYPE } from '@capp/kube';
import { installCrds, referenceCrds, testEnvironment } from '@capp/testing';

import { ClusterFixture, Obj, waitFor } from './testing/cluster-fixture';

/**
 * The syslog-ng logging backend on a real API server, after container-app-operator v0.3.5's logger
 * e2e scenarios: SyslogNGOutput and SyslogNGFlow (whose CRDs a cluster lacks unless its
 * logging-operator runs syslog-ng: this test installs them) instead of Output and Flow.
 */
const fx = new ClusterFixture();

beforeAll(async () => {
  await installCrds(
    testEnvironment().target,
    referenceCrds('syslogngflows.logging.banzaicloud.io', 'syslogngoutputs.logging.banzaicloud.io'),
  );
  await fx.setUp();
  await fx.startController({ loggingBackend: 'syslog-ng' });
});

afterAll(async () => {
  await fx.tearDown();
});

const logSpec = {
  type: 'elastic',
  host: '1.2.3.4',
  index: 'main',
  user: 'elastic',
  passwordSecret: 'credentials',
};

function capp(name: string, spec: Record<string, unknown> = { logSpec }): Obj {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name, namespace: fx.ns },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }] } },
      },
      ...spec,
    },
  };
}

/** What the logging-operator writes once a flow or output is in its running configuration. */
async function markActive(type: ChildKind, name: string): Promise<void> {
  await waitFor(`${type.kind} ${name}`, () => fx.get(type, fx.ns, name));
  await fx.apply(
    {
      apiVersion: type.apiVersion,
      kind: type.kind,
      metadata: { name, namespace: fx.ns },
      status: { active: true, problemsCount: 0 },
    },
    'status',
    'logging-operator',
  );
}

const gone = (type: ChildKind, name: string) => async (): Promise<boolean> =>
  (await fx.get(type, fx.ns, name)) === undefined;

describe('the syslog-ng logging backend', () => {
  it('creates, updates and deletes a SyslogNGOutput and a SyslogNGFlow with the Capp, and reports LoggingReady', async () => {
    await fx.apply(capp('logs'));
    const output = await waitFor('SyslogNGOutput', () => fx.get(SYSLOG_NG_OUTPUT, fx.ns, 'logs'));
    expect(output.metadata.labels?.[LABEL_PARENT_CAPP]).toBe('logs');
    expect(output.spec?.['elasticsearch']).toMatchObject({
      url: 'https://1.2.3.4:9200/_bulk',
      index: 'main',
      password: { valueFrom: { secretKeyRef: { name: 'credentials', key: 'elastic' } } },
    });
    const flow = await waitFor('SyslogNGFlow', () => fx.get(SYSLOG_NG_FLOW, fx.ns, 'logs'));
    expect(flow.spec).toMatchObject({ localOutputRefs: ['logs'] });
    expect(await fx.get(OUTPUT, fx.ns, 'logs-elastic')).toBeUndefined();
    expect(await fx.get(FLOW, fx.ns, 'logs')).toBeUndefined();

    await markActive(SYSLOG_NG_OUTPUT, 'logs');
    await markActive(SYSLOG_NG_FLOW, 'logs');
    await waitFor('LoggingReady', async () => {
      const c = await fx.get(CAPP_TYPE, fx.ns, 'logs');
      const conditions = (c?.status?.['conditions'] ?? []) as Array<{ type: string; status: string }>;
      return conditions.some((x) => x.type === 'LoggingReady' && x.status === 'True');
    });

    await fx.apply(capp('logs', { logSpec: { ...logSpec, index: 'test' } }));
    await waitFor('index updated', async () => {
      const o = await fx.get(SYSLOG_NG_OUTPUT, fx.ns, 'logs');
      return (o?.spec?.['elasticsearch'] as { index?: string } | undefined)?.index === 'test';
    });

    await fx.remove(CAPP_TYPE, fx.ns, 'logs');
    await waitFor('SyslogNGOutput deleted', gone(SYSLOG_NG_OUTPUT, 'logs'));
    await waitFor('SyslogNGFlow deleted', gone(SYSLOG_NG_FLOW, 'logs'));
  });

  it('deletes both when the Capp no longer ships logs', async () => {
    await fx.apply(capp('quiet'));
    await waitFor('SyslogNGFlow', () => fx.get(SYSLOG_NG_FLOW, fx.ns, 'quiet'));
    await fx.apply(capp('quiet', {}));
    await waitFor('SyslogNGOutput deleted', gone(SYSLOG_NG_OUTPUT, 'quiet'));
    await waitFor('SyslogNGFlow deleted', gone(SYSLOG_NG_FLOW, 'quiet'));
  });

  it('replaces the Flow and Output of the fluentd backend when the platform switches to syslog-ng', async () => {
    await fx.stopController();
    await fx.startController({ loggingBackend: 'fluentd' });
    await fx.apply(capp('switch'));
    await waitFor('Output', () => fx.get(OUTPUT, fx.ns, 'switch-elastic'));
    await waitFor('Flow', () => fx.get(FLOW, fx.ns, 'switch'));

    await fx.stopController();
    await fx.startController({ loggingBackend: 'syslog-ng' });
    await waitFor('SyslogNGOutput', () => fx.get(SYSLOG_NG_OUTPUT, fx.ns, 'switch'));
    await waitFor('SyslogNGFlow', () => fx.get(SYSLOG_NG_FLOW, fx.ns, 'switch'));
    await waitFor('Output deleted', gone(OUTPUT, 'switch-elastic'));
    await waitFor('Flow deleted', gone(FLOW, 'switch'));
  });
});
