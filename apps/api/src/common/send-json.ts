import type { Request, Response } from 'express';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers 200 with JSON text the caller already has (a cached view), as Express's `res.send` would —
 * Content-Type, Content-Length (Node sets it from the text in `end`), the ETag given, 304 to a GET or
 * HEAD whose If-None-Match / If-Modified-Since says the client's copy is fresh, no body to a HEAD — but
 * without `res.send`'s per-call work for a body it cannot know is ready: re-parsing the Content-Type
 * to add the charset, a MIME lookup, a second byte count, the freshness check of every request.
 * Headers set before (helmet's) are kept. The text goes out in one write with the header block.
 */
export function sendJson(req: Request, res: Response, etag: string, json: string): void {
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('ETag', etag);
  const headers = req.headers;
  if ((headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) && req.fresh) {
    res.statusCode = 304;
    res.removeHeader('Content-Type');
    res.end();
    return;
  }
  // Node counts the text's bytes for Content-Length itself, except for a HEAD (no body to count).
  if (req.method === 'HEAD') res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}
