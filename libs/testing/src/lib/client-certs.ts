/**
 * X.509 client certificates for the test control plane: kube-apiserver trusts a client CA made per
 * cluster (`--client-ca-file`), and tests mint certificates for any user and groups — e.g. to prove a
 * running process picks up a rotated client certificate. openssl does the signing (Node cannot).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ensureAptPackages, onPath } from './system';

const run = promisify(execFile);

export interface ClientCertificate {
  /** PEM */
  cert: string;
  /** PEM (unencrypted) */
  key: string;
}

async function ensureOpenssl(): Promise<void> {
  await ensureAptPackages(['openssl'], () => onPath('openssl'));
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed client CA (`ca.crt`, `ca.key`) in `dir`, valid for a week. */
export async function createClientCa(dir: string): Promise<{ certFile: string; keyFile: string }> {
  await ensureOpenssl();
  const certFile = join(dir, 'client-ca.crt');
  const keyFile = join(dir, 'client-ca.key');
  await run('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '7',
    '-subj',
    '/CN=capp-test-client-ca',
  ]);
  return { certFile, keyFile };
}

/** A certificate for `user` in `groups` (the subject's CN and O's, as Kubernetes reads them). */
export async function mintClientCertificate(
  ca: { certFile: string; keyFile: string },
  user: string,
  groups: string[] = [],
): Promise<ClientCertificate> {
  await ensureOpenssl();
  const dir = mkdtempSync(join(tmpdir(), 'capp-client-cert-'));
  try {
    const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
    const [key, csr, cert] = ['client.key', 'client.csr', 'client.crt'].map((f) => join(dir, f));
    await run('openssl', ['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subject]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-CAserial',
      join(dir, 'ca.srl'),
      '-days',
      '1',
      '-out',
      cert,
    ]);
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ServingCertificate {
  /** The CA that signed the certificate, base64 PEM (a webhook configuration's `caBundle`). */
  caBundle: string;
  certFile: string;
  keyFile: string;
}

/**
 * A serving certificate for 127.0.0.1 (`tls.crt`, `tls.key` in `dir`) signed by a CA made for it, valid
 * for a week: what a webhook served on loopback needs for kube-apiserver to call it.
 */
export async function createServingCertificate(dir: string): Promise<ServingCertificate> {
  await ensureOpenssl();
  const [caCert, caKey, key, csr, cert, ext] = [
    'ca.crt',
    'ca.key',
    'tls.key',
    'tls.csr',
    'tls.crt',
    'ext.cnf',
  ].map((f) => join(dir, f));
  await run('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    caKey,
    '-out',
    caCert,
    '-days',
    '7',
    '-subj',
    '/CN=capp-test-serving-ca',
  ]);
  await run('openssl', ['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caCert,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-CAserial',
    join(dir, 'ca.srl'),
    '-days',
    '7',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { caBundle: readFileSync(caCert).toString('base64'), certFile: cert, keyFile: key };
}
