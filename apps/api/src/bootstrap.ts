import { VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, NextFunction, Request, Response } from 'express';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';

import { AppModule } from './app.module';
import { ErrorEnvelopeFilter, toEnvelope } from './common/error.filter';
import { securityHeaders } from './common/security-headers';
import { validationPipe } from './common/validation';
import type { ApiConfig } from './config/api-config';
import { createLogger } from './infra/logging/logger';
import { ApiMetrics } from './infra/metrics/metrics';
import { mountSwagger } from './openapi/openapi';

const STARTED = Symbol('started');
type TimedRequest = Request & { [STARTED]: number };

/** The route template a request matched (bounded label values for metrics), else "unmatched". */
function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: string } }).route?.path;
  return route ? `${req.baseUrl}${route}` : 'unmatched';
}

/**
 * Builds the API application (not yet listening): security headers, body limit, CORS, /api/v1 URI
 * versioning, the global ValidationPipe and error envelope, metrics, Swagger UI at /docs.
 */
export async function createApi(
  config: ApiConfig,
  logger: Logger = createLogger(config.logLevel),
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(NestPinoLogger));
  app.disable('x-powered-by');
  // No ETag hashed from every body: a Capp's ETag is its stored version, set where it is read.
  app.set('etag', false);
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.use(securityHeaders()); // helmet's, computed once
  if (config.corsOrigins.length) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      exposedHeaders: ['ETag', 'Location', 'Warning'],
      allowedHeaders: ['Authorization', 'Content-Type', 'If-Match'],
    });
  }
  const metrics = app.get(ApiMetrics);
  // One 'finish' listener for every response (called with the response as `this`), not a closure
  // per request; the start time rides on the request.
  function recordRequest(this: Response): void {
    const req = this.req as TimedRequest;
    metrics.request(req.method, routeOf(req), this.statusCode, (performance.now() - req[STARTED]) / 1e3);
  }
  app.use((req: TimedRequest, res: Response, next: NextFunction) => {
    req[STARTED] = performance.now();
    res.on('finish', recordRequest);
    next();
  });
  app.use(
    json({
      limit: config.bodyLimit,
      type: ['application/json', 'application/merge-patch+json', 'application/*+json'],
    }),
  );
  // body-parser's errors (413, malformed JSON) in the same envelope as every other error.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const envelope = toEnvelope(err, logger);
    res.status(envelope.statusCode).json(envelope);
  });
  app.setGlobalPrefix('api', { exclude: ['healthz', 'readyz', 'metrics'] });
  app.enableVersioning({ type: VersioningType.URI });
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new ErrorEnvelopeFilter(logger));
  mountSwagger(app);
  // Only the signals that mean "stop" (Nest's default list also ends the process on SIGUSR2, SIGHUP…).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  return app;
}
