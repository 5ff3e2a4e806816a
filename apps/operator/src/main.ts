import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

import { KubeRest, LeaderElector } from '@capp/kube';

import { ConfigError, loadConfig, OperatorConfig, USAGE } from './config/config';
import { startHttpServer } from './observability/http';
import { createLogger } from './observability/logger';
import { OperatorMetrics } from './observability/metrics';
import { CappWebhooks } from './webhook/webhooks';
import { createHubOperator, createOperator } from './wiring';

/** The repository checkout this runs from (sources or dist/), found by its nx.json. */
function repoRoot(): string | undefined {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return undefined;
}

function resolveKubeconfig(config: OperatorConfig): string | undefined {
  if (config.kubeconfig) return config.kubeconfig;
  if (process.env['KUBERNETES_SERVICE_HOST']) return undefined; // in-cluster
  // The kubeconfig `npm run cluster:up` writes: the default for local development.
  const root = repoRoot();
  const local = root && join(root, '.cache', 'cluster', 'control-plane', 'kubeconfig');
  if (local && existsSync(local)) return local;
  throw new ConfigError(
    'no cluster: set KUBECONFIG (or --kubeconfig), or start a local one with `npm run cluster:up`',
  );
}

export async function main(argv: string[]): Promise<void> {
  let config: OperatorConfig;
  let kubeconfig: string | undefined;
  try {
    config = loadConfig(argv, process.env, hostname());
    kubeconfig = resolveKubeconfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const rest = KubeRest.fromKubeconfig(kubeconfig);
  const metrics = new OperatorMetrics(() => rest.counts);
  const operator = config.hub
    ? createHubOperator(
        rest,
        {
          namespaces: config.namespaces,
          concurrency: config.concurrency,
          resyncSeconds: config.resyncSeconds,
          placementsNamespace: config.placementsNamespace,
          defaultPlacement: config.defaultPlacement,
          clusterHeartbeatLease: config.clusterHeartbeatLease,
          clusterHeartbeatTimeoutSeconds: config.clusterHeartbeatTimeoutSeconds,
          identity: config.identity,
        },
        logger,
        metrics,
      )
    : createOperator(
        rest,
        {
          namespaces: config.namespaces,
          operatorNamespace: config.operatorNamespace,
          concurrency: config.concurrency,
          resyncSeconds: config.resyncSeconds,
          cappRevisions: config.cappRevisions,
          loggingBackend: config.loggingBackend,
          identity: config.identity,
          healthScopes: config.healthScopes,
          probeConcurrency: config.probeConcurrency,
          traitHttpAllowedHosts: config.traitHttpAllowedHosts,
        },
        logger,
        metrics,
      );
  const { controller } = operator;

  const elector = config.leaderElection
    ? new LeaderElector(rest, {
        namespace: config.operatorNamespace,
        name: config.leaseName,
        identity: config.identity,
        leaseDurationSeconds: config.leaseDurationSeconds,
        // client-go's proportions (15 s lease, 10 s renew deadline, 2 s retry), scaled to the lease.
        renewDeadlineSeconds: (config.leaseDurationSeconds * 2) / 3,
        retryPeriodSeconds: (config.leaseDurationSeconds * 2) / 15,
        logger: logger.child({ part: 'leader-election' }),
      })
    : undefined;
  // Webhooks run on every replica: admission must not depend on which one leads.
  const webhooks =
    config.webhookPort > 0
      ? new CappWebhooks(
          rest,
          {
            port: config.webhookPort,
            certDir: config.webhookCertDir,
            trustedUpdaters: config.trustedUpdaters,
            knativeNamespace: config.knativeNamespace,
          },
          logger.child({ part: 'webhook' }),
        )
      : undefined;
  await webhooks?.start();
  const probes = await startHttpServer(config.probePort, {
    '/healthz': async () => ({ status: 200, body: 'ok' }),
    '/readyz': async () =>
      (controller.synced && ('healthScopes' in operator ? (operator.healthScopes?.synced ?? true) : true)) ||
      (elector !== undefined && !elector.isLeader)
        ? { status: 200, body: 'ok' }
        : { status: 503, body: 'informers not synced' },
  });
  const metricsServer = await startHttpServer(config.metricsPort, {
    '/metrics': async () => ({
      status: 200,
      body: await metrics.metricsText(),
      contentType: 'text/plain; version=0.0.4',
    }),
  });
  logger.info(
    {
      event: 'started',
      server: rest.serverUrl,
      probePort: probes.port,
      metricsPort: metricsServer.port,
      webhookPort: webhooks?.port,
      config: { ...config },
    },
    'capp-operator started',
  );

  let stopping = false;
  const shutdown = async (signal: string, code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'draining in-flight reconciles');
    await operator.stop();
    await elector?.stop();
    await Promise.all([probes.close(), metricsServer.close(), webhooks?.stop()]);
    logger.info({ event: 'stopped' }, 'capp-operator stopped');
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  // SIGUSR1: one immediate resync (used by the benchmark to measure the cost of a resync).
  process.on('SIGUSR1', () => controller.resync());

  if (!elector) {
    await operator.start();
    return;
  }
  void elector.run({
    onStartedLeading: () => {
      metrics.setLeader(true);
      logger.info({ event: 'leading', identity: config.identity }, 'became leader; starting controller');
      operator.start().catch((err: unknown) => {
        logger.fatal(
          { event: 'start-failed', err: err instanceof Error ? err.message : String(err) },
          'controller failed',
        );
        void shutdown('start-failed', 1);
      });
    },
    onStoppedLeading: () => {
      metrics.setLeader(false);
      logger.warn({ event: 'lost-leadership' }, 'lost the lease; exiting so a fresh process can compete');
      void shutdown('lost-leadership', 1);
    },
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(
      `capp-operator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
