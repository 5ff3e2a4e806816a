import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('has defaults that watch every namespace with leader election on', () => {
    const c = loadConfig([], {}, 'host');
    expect(c).toMatchObject({
      namespaces: [],
      operatorNamespace: 'capp-operator-system',
      concurrency: 4,
      resyncSeconds: 300,
      leaderElection: true,
      leaseDurationSeconds: 15,
      cappRevisions: true,
      loggingBackend: 'fluentd',
      healthScopes: true,
      probeConcurrency: 16,
    });
    expect(c.identity).toMatch(/^host-\d+$/);
  });

  it('reads the hub mode and its placement and heartbeat settings, and refuses a malformed lease', () => {
    expect(loadConfig([], {}, 'h')).toMatchObject({
      hub: false,
      placementsNamespace: 'default',
      defaultPlacement: 'capp-default',
      clusterHeartbeatLease: { namespace: 'capp-operator-system', name: 'capp-operator-leader' },
      clusterHeartbeatTimeoutSeconds: 60,
    });
    const c = loadConfig(
      ['--hub', 'true', '--default-placement', 'west', '--cluster-heartbeat-lease', 'ops/leader'],
      { PLACEMENTS_NAMESPACE: 'placements', CLUSTER_HEARTBEAT_TIMEOUT_SECONDS: '30' },
      'h',
    );
    expect(c).toMatchObject({
      hub: true,
      placementsNamespace: 'placements',
      defaultPlacement: 'west',
      clusterHeartbeatLease: { namespace: 'ops', name: 'leader' },
      clusterHeartbeatTimeoutSeconds: 30,
    });
    expect(() => loadConfig(['--cluster-heartbeat-lease', 'leader'], {}, 'h')).toThrow(ConfigError);
    expect(() => loadConfig(['--placements-namespace', 'Bad_NS'], {}, 'h')).toThrow(/placements-namespace/);
  });

  it('takes flags over environment variables', () => {
    const c = loadConfig(
      ['--concurrency', '8', '--namespaces', 'a, b'],
      { CONCURRENCY: '2', RESYNC_SECONDS: '60' },
      'h',
    );
    expect(c).toMatchObject({ concurrency: 8, resyncSeconds: 60, namespaces: ['a', 'b'] });
  });

  it('turns HealthScopes off and bounds the probes in flight by flag or environment', () => {
    expect(loadConfig(['--health-scopes', 'false'], {}, 'h').healthScopes).toBe(false);
    expect(loadConfig([], { PROBE_CONCURRENCY: '64' }, 'h').probeConcurrency).toBe(64);
    expect(() => loadConfig(['--probe-concurrency', '0'], {}, 'h')).toThrow(ConfigError);
  });

  it('selects the syslog-ng logging backend by flag or environment', () => {
    expect(loadConfig(['--logging-backend', 'syslog-ng'], {}, 'h').loggingBackend).toBe('syslog-ng');
    expect(loadConfig([], { LOGGING_BACKEND: 'syslog-ng' }, 'h').loggingBackend).toBe('syslog-ng');
  });

  it('turns CappRevisions off by flag or environment', () => {
    expect(loadConfig(['--capp-revisions', 'false'], {}, 'h').cappRevisions).toBe(false);
    expect(loadConfig([], { CAPP_REVISIONS: 'false' }, 'h').cappRevisions).toBe(false);
  });

  it.each([
    [['--concurrency', '0'], '--concurrency must be an integer between 1 and 256, got "0"'],
    [['--resync-seconds', 'soon'], '--resync-seconds must be an integer between 0 and 86400, got "soon"'],
    [['--leader-elect', 'maybe'], '--leader-elect must be true or false, got "maybe"'],
    [['--capp-revisions', 'some'], '--capp-revisions must be true or false, got "some"'],
    [
      ['--logging-backend', 'fluentbit'],
      '--logging-backend must be one of fluentd, syslog-ng, got "fluentbit"',
    ],
    [['--namespaces', 'Team_A'], '--namespaces: "Team_A" is not a valid namespace name'],
    [
      ['--log-level', 'loud'],
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [['--bogus', '1'], "Unknown option '--bogus'"],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    expect(() => loadConfig(argv, {}, 'h')).toThrow(ConfigError);
    expect(() => loadConfig(argv, {}, 'h')).toThrow(message);
  });
});
