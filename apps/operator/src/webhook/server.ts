import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

import type { Logger } from 'pino';

import { AdmissionRequest, AdmissionResponse } from './admission';

export type AdmissionHandler = (req: AdmissionRequest) => Promise<AdmissionResponse> | AdmissionResponse;

export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

/** The apiserver sends at most ~3 MiB objects; anything bigger is not an AdmissionReview we serve. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;
const RELOAD_CHECK_MS = 30_000;

interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: AdmissionRequest;
}

/**
 * HTTPS server for admission webhooks (POST an AdmissionReview v1 to a path). The certificate is read
 * from `certDir/tls.crt` and `tls.key` (a mounted Secret, as controller-runtime does) and reloaded
 * when the files change, so cert-manager rotations need no restart.
 */
export async function startWebhookServer(
  port: number,
  certDir: string,
  handlers: Record<string, AdmissionHandler>,
  logger: Logger,
): Promise<WebhookServer> {
  const certFile = join(certDir, 'tls.crt');
  const keyFile = join(certDir, 'tls.key');
  const stamp = (): string => `${statSync(certFile).mtimeMs}:${statSync(keyFile).mtimeMs}`;
  let loaded = stamp();
  let context: SecureContext = createSecureContext({
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
  });
  const reload = setInterval(() => {
    try {
      const now = stamp();
      if (now === loaded) return;
      context = createSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
      loaded = now;
      logger.info({ event: 'webhook-cert-reloaded', certDir }, 'webhook certificate reloaded');
    } catch (err) {
      logger.warn(
        { event: 'webhook-cert-reload-failed', err: (err as Error).message },
        'could not reload the webhook certificate',
      );
    }
  }, RELOAD_CHECK_MS);
  reload.unref();

  const server: Server = createServer(
    {
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      minVersion: 'TLSv1.2',
      SNICallback: (_name, done) => done(null, context),
    },
    (req, res) => {
      const answer = (status: number, body: unknown): void => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      const path = new URL(req.url ?? '/', 'https://localhost').pathname;
      const handler = Object.hasOwn(handlers, path) ? handlers[path] : undefined;
      if (!handler) return answer(404, { message: `no webhook at ${path}` });
      if (req.method !== 'POST') return answer(405, { message: 'POST an AdmissionReview' });
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        let review: AdmissionReview;
        try {
          review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
        } catch {
          return answer(400, { message: 'the body is not JSON' });
        }
        const request = review.request;
        if (!request?.uid) return answer(400, { message: 'not an AdmissionReview with a request' });
        Promise.resolve(handler(request))
          .then((response) => {
            logger.info(
              {
                event: 'admission',
                webhook: path,
                namespace: request.namespace,
                name: request.name,
                operation: request.operation,
                user: request.userInfo?.username,
                allowed: response.allowed,
                patched: Boolean(response.patch),
                ...(response.status && { reason: response.status.message }),
              },
              response.allowed ? 'admitted' : 'denied',
            );
            answer(200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
          })
          .catch((err: unknown) => {
            // An internal error denies with 500 (failurePolicy: Fail would deny anyway), with a reason.
            const message = err instanceof Error ? err.message : String(err);
            logger.error({ event: 'admission-failed', webhook: path, err: message }, 'admission failed');
            answer(200, {
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: {
                uid: request.uid,
                allowed: false,
                status: { code: 500, reason: 'InternalError', message },
              },
            });
          });
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(reload);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
