/**
 * Where credentials come from, without loading `@kubernetes/client-node` for the common cases: its
 * KubeConfig pulls in the whole generated API (about 65 MB of RSS in a process that only needs a
 * server, a CA and a token or a client certificate). Kubeconfig files with tokens, token files,
 * client certificates (files or inline), CA bundles and basic auth, and the in-cluster service
 * account, are read here — files again at every call, so rotations are picked up; kubeconfigs that
 * need exec plugins or auth providers, or several files merged, are handed to client-node, loaded
 * only then.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';

import { parse } from 'yaml';

/** What a connection needs from a kubeconfig: the server, and credentials applied to a request. */
export interface CredentialSource {
  readonly server: string;
  /** Sets headers (Authorization), auth, and TLS material (ca, cert, key, rejectUnauthorized). */
  apply(opts: RequestOptions): Promise<void>;
}

/** Static or file-backed credentials (what the test harness and most kubeconfigs hold). */
export interface StaticCredentials {
  server: string;
  ca?: Buffer;
  caFile?: string;
  insecure?: boolean;
  tlsServerName?: string;
  token?: string;
  tokenFile?: string;
  cert?: Buffer;
  certFile?: string;
  key?: Buffer;
  keyFile?: string;
  username?: string;
  password?: string;
}

export function staticSource(c: StaticCredentials): CredentialSource {
  return {
    server: c.server,
    apply: async (opts) => {
      const headers = (opts.headers ??= {}) as Record<string, string>;
      const token = c.tokenFile ? readFileSync(c.tokenFile, 'utf8').trim() : c.token;
      if (token) headers['Authorization'] = `Bearer ${token}`;
      else if (c.username !== undefined) opts.auth = `${c.username}:${c.password ?? ''}`;
      const ca = c.caFile ? readFileSync(c.caFile) : c.ca;
      if (ca) opts.ca = ca;
      const cert = c.certFile ? readFileSync(c.certFile) : c.cert;
      const key = c.keyFile ? readFileSync(c.keyFile) : c.key;
      if (cert && key) {
        opts.cert = cert;
        opts.key = key;
      }
      if (c.tlsServerName) opts.servername = c.tlsServerName;
      opts.rejectUnauthorized = !c.insecure;
    },
  };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service account, as client-go's rest.InClusterConfig reads it; undefined outside a pod. */
export function inClusterSource(): CredentialSource | undefined {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port || !existsSync(join(SA_DIR, 'token'))) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return staticSource({ server, tokenFile: join(SA_DIR, 'token'), caFile: join(SA_DIR, 'ca.crt') });
}

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Named<{ cluster: Record<string, unknown> }>[];
  users?: Named<{ user: Record<string, unknown> }>[];
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
}

/**
 * The credentials of one kubeconfig file (its current context), or undefined when it needs what
 * only client-node does (exec plugins, auth providers).
 */
export function kubeconfigSource(path: string): CredentialSource | undefined {
  const doc = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  const context = doc.contexts?.find((c) => c.name === doc['current-context'])?.context;
  if (!context) throw new Error(`${path}: no current context`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
  if (!cluster || typeof cluster['server'] !== 'string')
    throw new Error(`${path}: no server for the current context`);
  if (user['exec'] || user['auth-provider']) return undefined;
  const dir = dirname(path);
  const file = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? (isAbsolute(v) ? v : join(dir, v)) : undefined;
  const data = (v: unknown): Buffer | undefined =>
    typeof v === 'string' && v !== '' ? Buffer.from(v, 'base64') : undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return staticSource({
    server: cluster['server'],
    ca: data(cluster['certificate-authority-data']),
    caFile: file(cluster['certificate-authority']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster['tls-server-name']),
    token: str(user['token']),
    tokenFile: file(user['tokenFile']) ?? file(user['token-file']),
    cert: data(user['client-certificate-data']),
    certFile: file(user['client-certificate']),
    key: data(user['client-key-data']),
    keyFile: file(user['client-key']),
    username: str(user['username']),
    password: str(user['password']),
  });
}

/** client-node's KubeConfig, loaded only for what the readers above do not do. */
function clientNodeSource(
  load: (kc: import('@kubernetes/client-node').KubeConfig) => void,
): CredentialSource {
  const { KubeConfig } = require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
  const kc = new KubeConfig();
  load(kc);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  return { server: cluster.server, apply: (opts) => kc.applyToHTTPSOptions(opts) };
}

/**
 * The kubeconfig at `path`; without one, client-go's loading rules: `$KUBECONFIG`, then
 * `~/.kube/config`, then the in-cluster service account.
 */
export function loadCredentials(path?: string): CredentialSource {
  const fromFile = (p: string): CredentialSource =>
    kubeconfigSource(p) ?? clientNodeSource((kc) => kc.loadFromFile(p));
  if (path) return fromFile(path);
  const env = process.env['KUBECONFIG'];
  if (env) {
    const files = env.split(delimiter).filter((f) => f !== '');
    if (files.length === 1) return fromFile(files[0] as string);
    return clientNodeSource((kc) => kc.loadFromDefault()); // merged files: client-node's merge rules
  }
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFile(home);
  const inCluster = inClusterSource();
  if (inCluster) return inCluster;
  throw new Error('no kubeconfig: set KUBECONFIG, or run in a pod with a service account');
}
