import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  Module,
  OnApplicationBootstrap,
  RequestMethod,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { IncomingMessage } from 'http';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';

import { CappViews } from './app/capps/capp-views';
import { AllCappsController, CappsController } from './app/capps/capps.controller';
import { CappsRepository } from './app/capps/capps.repository';
import { CappsService } from './app/capps/capps.service';
import { ClusterAdmission } from './app/capps/cluster-admission';
import { HealthScopesController } from './app/healthscopes/healthscopes.controller';
import { HealthScopesService } from './app/healthscopes/healthscopes.service';
import { TraitsController } from './app/traits/traits.controller';
import { AuthedRequest, AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/authenticator';
import { API_CONFIG, ApiConfig } from './config/api-config';
import { HealthController } from './infra/health/health.controller';
import { CappWatcher } from './infra/kube/capp-watcher';
import { KubeGateway } from './infra/kube/kube.gateway';
import { KubeClusterAdmission } from './infra/kube/kube-cluster-admission';
import { ROOT_LOGGER } from './infra/logging/logger';
import { ApiMetrics } from './infra/metrics/metrics';
import { PrismaService } from './infra/prisma/prisma.service';
import { PrismaCappsRepository } from './infra/prisma/prisma-capps.repository';
import { CappSync } from './infra/queues/capp-sync';

/** Paths that are not worth a log line per request. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Starts the background parts after the app is wired, stops them before it goes. */
class Lifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly sync: CappSync,
    private readonly watcher: CappWatcher,
    private readonly prisma: PrismaService,
    private readonly metrics: ApiMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.metrics.observeQueueDepth(() => this.sync.queueDepth());
    this.sync.start();
    if (this.config.watchCluster) this.watcher.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.watcher.stop();
    await this.sync.close(); // lets running applies finish
    await this.prisma.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          // One line per request at info and below; above that (warn, error) pino-http would build a
          // child logger per request for lines never written (failures are logged by the error filter).
          forRoutes: logger.isLevelEnabled('info') ? [{ path: '{*path}', method: RequestMethod.ALL }] : [],
          pinoHttp: {
            logger,
            autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has(req.url ?? '') },
            customProps: (req: IncomingMessage) => ({ user: (req as AuthedRequest).user?.username }),
            quietReqLogger: true,
          },
        }),
        TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: Math.max(1, config.rateLimitPerMinute) }],
        }),
      ],
      controllers: [
        CappsController,
        AllCappsController,
        HealthScopesController,
        TraitsController,
        HealthController,
      ],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: PrismaService, useFactory: () => new PrismaService(config.databaseUrl) },
        {
          provide: CappsRepository,
          useFactory: (prisma: PrismaService) => new PrismaCappsRepository(prisma),
          inject: [PrismaService],
        },
        { provide: KubeGateway, useFactory: () => KubeGateway.fromKubeconfig(config.kubeconfig) },
        { provide: ApiMetrics, useFactory: () => new ApiMetrics() },
        {
          provide: CappSync,
          useFactory: (repository: CappsRepository, kube: KubeGateway, metrics: ApiMetrics) =>
            new CappSync(config, repository, kube, logger.child({ part: 'sync' }), metrics),
          inject: [CappsRepository, KubeGateway, ApiMetrics],
        },
        {
          provide: CappWatcher,
          useFactory: (kube: KubeGateway, repository: CappsRepository, sync: CappSync, metrics: ApiMetrics) =>
            new CappWatcher(
              kube,
              repository,
              sync,
              config.revisionLimit,
              logger.child({ part: 'watcher' }),
              metrics,
            ),
          inject: [KubeGateway, CappsRepository, CappSync, ApiMetrics],
        },
        {
          provide: Authenticator,
          useFactory: (kube: KubeGateway) =>
            new Authenticator(
              kube,
              config.authMode === 'kubernetes',
              config.authCacheSeconds,
              logger.child({ part: 'auth' }),
            ),
          inject: [KubeGateway],
        },
        {
          provide: ClusterAdmission,
          useFactory: (kube: KubeGateway) =>
            new KubeClusterAdmission(kube, config.admissionTimeoutMs, logger.child({ part: 'admission' })),
          inject: [KubeGateway],
        },
        {
          provide: CappsService,
          useFactory: (
            repository: CappsRepository,
            sync: CappSync,
            admission: ClusterAdmission,
            views: CappViews,
          ) => new CappsService(repository, sync, admission, config, views),
          inject: [CappsRepository, CappSync, ClusterAdmission, CappViews],
        },
        { provide: CappViews, useValue: new CappViews(config.viewCacheSize) },
        {
          provide: HealthScopesService,
          useFactory: (kube: KubeGateway) => new HealthScopesService(kube),
          inject: [KubeGateway],
        },
        Lifecycle,
        // RATE_LIMIT_PER_MINUTE=0 turns the limiter off: no guard at all rather than one that skips
        // every request after reading its route's throttle metadata.
        ...(config.rateLimitPerMinute > 0 ? [{ provide: APP_GUARD, useClass: ThrottlerGuard }] : []),
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}
