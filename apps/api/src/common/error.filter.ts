import { randomUUID } from 'node:crypto';

import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';

import { DomainError } from './errors';

export interface ErrorEnvelope {
  statusCode: number;
  error: string;
  message: string;
  details: { path: string; rule: string; message: string }[];
  /** Only on 500s: the same id is in the log line with the stack. */
  errorId?: string;
}

function reason(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  return name
    ? name
        .toLowerCase()
        .replace(/(^|_)(\w)/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase())
    : 'Error';
}

/** Turns anything thrown into `{statusCode, error, message, details}`; 500s get an `errorId`. */
export function toEnvelope(exception: unknown, logger: Logger): ErrorEnvelope {
  // Express refuses a path whose percent-escapes do not decode before any route sees it.
  const undecodable = /^Failed to decode param '(.*)'$/.exec(String((exception as Error)?.message ?? ''));
  if (undecodable) {
    const message = `is not valid percent-encoding: '${undecodable[1]}'`;
    return {
      statusCode: 400,
      error: reason(400),
      message: `a path parameter ${message}`,
      details: [{ path: 'path', rule: 'encoding', message }],
    };
  }
  if (exception instanceof DomainError) {
    return {
      statusCode: exception.status,
      error: exception.error,
      message: exception.message,
      details: exception.details,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message =
      typeof body === 'string'
        ? body
        : Array.isArray((body as { message?: unknown }).message)
          ? (body as { message: string[] }).message.join('; ')
          : String((body as { message?: unknown }).message ?? exception.message);
    return { statusCode: status, error: reason(status), message, details: [] };
  }
  // body-parser's errors carry their status (413 too large, 400 bad JSON, 415 charset).
  const httpError = exception as { status?: unknown; type?: unknown; message?: unknown };
  if (
    typeof httpError.status === 'number' &&
    httpError.status >= 400 &&
    httpError.status < 500 &&
    typeof httpError.type === 'string'
  ) {
    return {
      statusCode: httpError.status,
      error: reason(httpError.status),
      message: String(httpError.message),
      details: [],
    };
  }
  const errorId = randomUUID();
  logger.error({ err: exception, errorId }, 'unhandled error');
  return {
    statusCode: 500,
    error: 'Internal Server Error',
    message: `unexpected error; quote errorId ${errorId} when reporting it`,
    details: [],
    errorId,
  };
}

@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const envelope = toEnvelope(exception, this.logger);
    if (envelope.statusCode === 429) res.setHeader('Retry-After', '60');
    res.status(envelope.statusCode).json(envelope);
  }
}
