import { BadRequestException } from '@nestjs/common';
import pino from 'pino';

import { toEnvelope } from './error.filter';
import { InvalidInputError, NotFoundError } from './errors';

describe('the error envelope', () => {
  const lines: string[] = [];
  const logger = pino({}, { write: (l: string) => lines.push(l) });

  it('carries a domain error’s status, name, message and details', () => {
    const details = [{ path: 'spec.scaleMetric', rule: 'enum', message: 'must be one of …' }];
    expect(toEnvelope(new InvalidInputError('bad', details), logger)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'bad',
      details,
    });
    expect(toEnvelope(new NotFoundError('no capp'), logger)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'no capp',
      details: [],
    });
    expect(
      toEnvelope(new BadRequestException('Validation failed (numeric string is expected)'), logger),
    ).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Validation failed (numeric string is expected)',
      details: [],
    });
  });

  it('gives a 500 an errorId that is also in the log line with the error, and no internals in the answer', () => {
    const envelope = toEnvelope(new Error('db password is hunter2'), logger);
    expect(envelope).toMatchObject({ statusCode: 500, error: 'Internal Server Error', details: [] });
    expect(envelope.message).not.toContain('hunter2');
    const logged = JSON.parse(lines.at(-1) ?? '{}') as { errorId?: string; err?: { message?: string } };
    expect(logged.errorId).toBe(envelope.errorId);
    expect(logged.err?.message).toContain('hunter2');
  });
});
