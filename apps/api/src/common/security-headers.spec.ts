import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

import { securityHeaders } from './security-headers';

/** What a middleware does to a fresh response: its headers, lower-cased, and whether it called next. */
function run(middleware: (req: Request, res: Response, next: NextFunction) => void): {
  headers: Record<string, string>;
  next: number;
} {
  const headers: Record<string, string> = { 'x-powered-by': 'Express' };
  const res = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  let next = 0;
  middleware({} as Request, res as unknown as Response, () => next++);
  return { headers, next };
}

describe('securityHeaders', () => {
  it('sets exactly what helmet() sets, on every response', () => {
    const middleware = securityHeaders();
    const expected = run(helmet());
    expect(Object.keys(expected.headers).length).toBeGreaterThan(10);
    expect(expected.headers['x-powered-by']).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(run(middleware)).toEqual(expected);
  });
});
