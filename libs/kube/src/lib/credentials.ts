import { Agent, type AgentOptions, type RequestOptions } from 'node:https';

import { type CredentialSource, loadCredentials, staticSource } from './kubeconfig';

/** A server and static credentials, e.g. the test harness's admin token. */
export interface KubeTarget {
  /** https://127.0.0.1:<port> */
  server: string;
  token?: string;
  /** PEM bundle to verify the serving certificate; when absent the certificate is not verified. */
  ca?: string | Buffer;
  /** Client certificate and key (PEM), for certificate authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** Who to act as (`Impersonate-User`/`-Group`): the credentials' user must be allowed to impersonate. */
export interface Impersonation {
  user: string;
  groups: string[];
}

export interface CredentialOptions {
  impersonate?: Impersonation;
}

/** What one request needs: headers with credentials, and the connection pool for them. */
export interface Connection {
  /** A list value is sent as one header line per value (as impersonating several groups needs). */
  headers: Record<string, string | string[]>;
  /** `user:password` basic auth, when the kubeconfig uses it. */
  auth?: string;
  /** The keep-alive pool for the current TLS material (undefined for plain HTTP). */
  agent?: Agent;
}

/** How long credentials are reused before reading them again (tokens and files may rotate). */
const REFRESH_MS = 1000;
/** How long a replaced pool may finish what it is doing before its sockets are closed. */
const RETIRE_AFTER_MS = 60_000;

/**
 * Credentials from a kubeconfig (files, inline data, in-cluster service account; exec plugins through
 * client-node, see kubeconfig.ts), re-read at most once a second so a rotated token, CA or client
 * certificate is picked up by a running process. Requests share one keep-alive pool per set of TLS
 * material: client-node builds a new `https.Agent` (a TCP and TLS handshake) per call; a rotated CA or
 * client certificate gets a new pool, and the old one is closed a minute later (its watches then
 * reconnect with the new credentials, as client-go's connection rotation does).
 */
export class KubeCredentials {
  readonly server: URL;
  private cached?: { at: number; connection: Promise<Connection> };
  private pool?: { key: string; agent: Agent };
  private readonly retired = new Set<NodeJS.Timeout>();

  constructor(
    private readonly source: CredentialSource,
    private readonly options: CredentialOptions = {},
  ) {
    this.server = new URL(source.server);
  }

  /** The kubeconfig at `path`; else `$KUBECONFIG`, `~/.kube/config`, in-cluster (client-go's rules). */
  static fromKubeconfig(path?: string, options: CredentialOptions = {}): KubeCredentials {
    return new KubeCredentials(loadCredentials(path), options);
  }

  static fromTarget(target: KubeTarget, options: CredentialOptions = {}): KubeCredentials {
    const buf = (v?: string | Buffer): Buffer | undefined => (v === undefined ? undefined : Buffer.from(v));
    return new KubeCredentials(
      staticSource({
        server: target.server,
        ca: buf(target.ca),
        insecure: target.ca === undefined,
        token: target.token,
        cert: buf(target.cert),
        key: buf(target.key),
      }),
      options,
    );
  }

  /** Headers and pool for the next request. */
  connection(): Promise<Connection> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < REFRESH_MS) return this.cached.connection;
    const connection = this.resolve();
    this.cached = { at: now, connection };
    // A failure is not cached: the next request asks again.
    connection.catch(() => {
      if (this.cached?.connection === connection) this.cached = undefined;
    });
    return connection;
  }

  /** Closes every pooled connection (at shutdown). */
  close(): void {
    this.pool?.agent.destroy();
    this.pool = undefined;
    this.cached = undefined;
    for (const t of this.retired) clearTimeout(t);
    this.retired.clear();
  }

  private async resolve(): Promise<Connection> {
    const opts: RequestOptions = { headers: {} };
    await this.source.apply(opts);
    if (opts.agent instanceof Agent) opts.agent.destroy(); // client-node's throw-away agent, never used
    const headers: Record<string, string | string[]> = Object.fromEntries(
      Object.entries(opts.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]),
    );
    const who = this.options.impersonate;
    if (who) {
      headers['Impersonate-User'] = who.user;
      headers['Impersonate-Group'] = who.groups;
    }
    const connection: Connection = { headers, auth: typeof opts.auth === 'string' ? opts.auth : undefined };
    if (this.server.protocol !== 'https:') return connection;
    const tls: AgentOptions = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      servername: opts.servername,
      rejectUnauthorized: opts.rejectUnauthorized,
    };
    const key = JSON.stringify(
      Object.values(tls).map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)),
    );
    if (this.pool?.key !== key) {
      const old = this.pool?.agent;
      if (old) {
        const timer = setTimeout(() => {
          this.retired.delete(timer);
          old.destroy();
        }, RETIRE_AFTER_MS);
        timer.unref();
        this.retired.add(timer);
      }
      this.pool = { key, agent: new Agent({ ...tls, keepAlive: true, maxSockets: 64 }) };
    }
    connection.agent = this.pool.agent;
    return connection;
  }
}
