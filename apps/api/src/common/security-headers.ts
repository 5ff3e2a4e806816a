import type { IncomingMessage, ServerResponse } from 'node:http';

import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * helmet's default headers, computed once: helmet runs a chain of a dozen middlewares per request,
 * each setting one constant header (its defaults have no per-request value such as a CSP nonce), so
 * its answer to one request is its answer to all. This runs helmet once against a recording
 * response and sets what it set on every response, in one middleware. The headers stay helmet's own:
 * a helmet upgrade that changes them changes them here.
 */
export function securityHeaders(): (req: Request, res: Response, next: NextFunction) => void {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown): void {
      set.push([name, String(value)]);
    },
    removeHeader(name: string): void {
      removed.push(name);
    },
  };
  let finished = false;
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    finished = true;
  });
  if (!finished)
    throw new Error('helmet did not set its headers synchronously: they cannot be computed once');
  return (_req, res, next) => {
    for (let i = 0; i < set.length; i++) res.setHeader(set[i][0], set[i][1]);
    for (let i = 0; i < removed.length; i++) res.removeHeader(removed[i]);
    next();
  };
}
