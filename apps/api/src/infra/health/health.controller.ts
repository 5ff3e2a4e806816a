import { Controller, Get, Header, Res, ServiceUnavailableException, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';

import { CappsRepository } from '../../app/capps/capps.repository';
import { withTimeout } from '../../common/async';
import { KubeGateway } from '../kube/kube.gateway';
import { ApiMetrics } from '../metrics/metrics';
import { CappSync } from '../queues/capp-sync';

const CHECK_TIMEOUT_MS = 2000;

/** Liveness, readiness (PostgreSQL, Redis, the cluster) and Prometheus metrics, outside /api/v1. */
@ApiExcludeController()
@SkipThrottle()
@Controller({ version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly repository: CappsRepository,
    private readonly sync: CappSync,
    private readonly kube: KubeGateway,
    private readonly metrics: ApiMetrics,
  ) {}

  private async probe(
    key: string,
    fn: () => Promise<unknown>,
  ): Promise<Record<string, { status: 'up' | 'down' }>> {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(fn(), CHECK_TIMEOUT_MS, key);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The process is alive (dependencies do not matter here: restarting would not fix them). */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 or 503, with which dependency is down (terminus's 503 would lose that in the error envelope). */
  @Get('readyz')
  @HealthCheck()
  async readyz(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.probe('database', () => this.repository.ping()),
        () => this.probe('redis', () => this.sync.ping()),
        () => this.probe('cluster', () => this.kube.ping()),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      res.status(503);
      return err.getResponse() as HealthCheckResult;
    }
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
