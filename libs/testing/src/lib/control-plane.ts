/**
 * A real Kubernetes control plane for tests, like controller-runtime's envtest: etcd, kube-apiserver
 * and kube-controller-manager (garbage collector, namespace and service-account controllers) as
 * child processes on loopback, plus our CRDs. No kubelet, no scheduler: pods never run.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';

import { ConflictError, type Impersonation, KubeRest, type KubeTarget } from '@capp/kube';
import { stringify } from 'yaml';

import { kubeBinaries } from './binaries';
import { createClientCa } from './client-certs';
import { installCrds, testCrds } from './crds';
import { startKnativeAdmission } from './knative-admission';
import { ensureDir, keepFromEnv } from './paths';
import { freePort } from './ports';
import { ProcessGroup, processStartTime } from './process';

export const ADMIN_USER = 'capp-admin';
export const DEFAULT_STATIC_USERS = ['alice', 'bob', 'carol'] as const;
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Controllers run by kube-controller-manager (names from `kube-controller-manager --help`). */
export const DEFAULT_CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
] as const;

export interface ControlPlaneOptions {
  /** Directory for data, keys, kubeconfig and logs. Default: a fresh temporary directory. */
  stateDir?: string;
  /** Keep data and state on stop (default: `CAPP_TEST_KEEP`). */
  keep?: boolean;
  /** CRDs to install; default {@link testCrds} (Capp + child kinds). `false` installs none. */
  crds?: Record<string, unknown>[] | false;
  /** Non-admin static users (token auth, group system:authenticated). Default alice, bob, carol. */
  users?: readonly string[];
  /** kube-controller-manager controllers; default {@link DEFAULT_CONTROLLERS}. */
  controllers?: readonly string[];
  /**
   * Knative Serving's own admission webhooks (defaulting and validation, see knative-admission.ts);
   * default true. Off, Knative objects are stored as the CRD schema alone allows.
   */
  knativeAdmission?: boolean;
  /** Extra kube-apiserver flags (`--name=value`). */
  apiserverFlags?: string[];
  startTimeoutMs?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** What another process needs to use (or stop) a running control plane; written to `control-plane.json`. */
export interface ControlPlaneInfo {
  server: string;
  kubeconfigPath: string;
  caFile: string;
  /** The CA kube-apiserver trusts for client certificates (see mintClientCertificate). */
  clientCaFile: string;
  clientCaKeyFile: string;
  adminToken: string;
  users: Record<string, string>;
  stateDir: string;
  pidFile: string;
  ownerPid: number;
  /** Start time of the owner (see processStartTime), so a recycled pid is never mistaken for it. */
  ownerStartTime?: string;
  startupMs: number;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Admin access for the harness's own REST client. */
  readonly target: KubeTarget;
  /** Token of a static user (alice, bob, carol by default); throws for an unknown name. */
  userToken(name: string): string;
  /** Creates namespace and ServiceAccount when missing and returns a token from the TokenRequest API. */
  mintServiceAccountToken(
    namespace: string,
    name: string,
    options?: { expirationSeconds?: number; audiences?: string[] },
  ): Promise<string>;
  /** Stops controller-manager, apiserver and etcd; removes data unless `keep`. Idempotent. */
  stop(): Promise<void>;
}

export const CONTROL_PLANE_INFO_FILE = 'control-plane.json';

function getHttp(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function token(): string {
  return randomBytes(24).toString('hex');
}

function defaultLog(line: string): void {
  process.stderr.write(`[capp-testing] ${line}\n`);
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const log = options.log ?? defaultLog;
  const keep = options.keep ?? keepFromEnv();
  const bins = await kubeBinaries();
  const ownDir = options.stateDir === undefined;
  const stateDir = ensureDir(options.stateDir, 'capp-control-plane-');
  const etcdDir = join(stateDir, 'etcd');
  const pkiDir = join(stateDir, 'pki');
  const certDir = join(pkiDir, 'serving');
  // A given state dir may hold a previous run: always start from an empty cluster.
  rmSync(etcdDir, { recursive: true, force: true });
  rmSync(pkiDir, { recursive: true, force: true });
  rmSync(join(stateDir, CONTROL_PLANE_INFO_FILE), { force: true });
  mkdirSync(etcdDir, { recursive: true, mode: 0o700 });
  mkdirSync(certDir, { recursive: true, mode: 0o700 });

  const kubeconfigPath = join(stateDir, 'kubeconfig');
  const group = new ProcessGroup(
    'control-plane',
    stateDir,
    keep ? [] : ownDir ? [stateDir] : [etcdDir, pkiDir, kubeconfigPath],
  );
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const phases: string[] = [];
  const phase = (name: string, since: number): void => void phases.push(`${name} ${Date.now() - since} ms`);

  try {
    // --- credentials: service-account signing key pair, static tokens
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const saKey = join(pkiDir, 'sa.key');
    const saPub = join(pkiDir, 'sa.pub');
    writeFileSync(saKey, privateKey, { mode: 0o600 });
    writeFileSync(saPub, publicKey);
    const adminToken = token();
    const users = Object.fromEntries((options.users ?? DEFAULT_STATIC_USERS).map((u) => [u, token()]));
    const clientCa = await createClientCa(pkiDir);
    const tokenFile = join(pkiDir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      [
        `${adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"`,
        ...Object.entries(users).map(([name, tok]) => `${tok},${name},${name}`),
      ].join('\n') + '\n',
      { mode: 0o600 },
    );

    const [etcdClientPort, etcdPeerPort, apiPort, kcmPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = join(certDir, 'apiserver.crt');
    writeFileSync(kubeconfigPath, kubeconfig(server, caFile, adminToken, users), { mode: 0o600 });

    // --- etcd
    let since = Date.now();
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = group.spawn('etcd', bins.etcd, [
      `--name=capp-test`,
      `--data-dir=${etcdDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=capp-test=${peerUrl}`,
      `--initial-cluster-state=new`,
      `--unsafe-no-fsync=true`,
      // A single member elects itself after one election timeout: 100 ms instead of up to 2 s.
      `--heartbeat-interval=10`,
      `--election-timeout=100`,
      `--quota-backend-bytes=${1024 * 1024 * 1024}`,
      `--log-level=warn`,
    ]);
    await group.waitFor('etcd /health', async () => (await getHttp(`${etcdUrl}/health`)).status === 200, {
      timeoutMs,
      watch: [etcd],
    });
    phase('etcd', since);

    // --- kube-apiserver
    since = Date.now();
    const apiserver = group.spawn('kube-apiserver', bins.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=127.0.0.1`,
      `--advertise-address=127.0.0.1`,
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--authorization-mode=RBAC`,
      `--token-auth-file=${tokenFile}`,
      `--client-ca-file=${clientCa.certFile}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      `--service-cluster-ip-range=10.0.0.0/24`,
      `--allow-privileged=true`,
      `--profiling=false`,
      // 127.0.0.1 cannot be published as the `kubernetes` Service endpoint (loopback is rejected).
      `--endpoint-reconciler-type=none`,
      ...(options.apiserverFlags ?? []),
    ]);
    // Until the serving certificate exists the CA is unknown; after that, verify against it.
    const target: KubeTarget = { server, token: adminToken };
    await group.waitFor(
      'kube-apiserver /readyz',
      async () => {
        // Re-read every time: kube-apiserver writes the file (leaf, then its CA) while we poll, and a
        // half-written one would otherwise be trusted for good (SELF_SIGNED_CERT_IN_CHAIN).
        if (!existsSync(caFile)) return false;
        target.ca = readFileSync(caFile);
        const res = await KubeRest.fromTarget(target).raw('GET', '/readyz', { timeoutMs: 5000 });
        return res.status === 200;
      },
      { timeoutMs, watch: [etcd, apiserver] },
    );
    phase('kube-apiserver', since);
    const admin = KubeRest.fromTarget(target);

    // --- CRDs before the controller-manager, so the garbage collector's first discovery sees them
    since = Date.now();
    const crds = options.crds === false ? [] : (options.crds ?? testCrds().crds);
    if (crds.length > 0) await installCrds(target, crds, timeoutMs);
    phase(`crds(${crds.length})`, since);

    // --- Knative Serving's admission (needs the Knative CRDs)
    if (options.knativeAdmission !== false && crds.some(servesKnative)) {
      since = Date.now();
      await startKnativeAdmission(group, { target, kubeconfigPath, pkiDir, timeoutMs });
      phase('knative-admission', since);
    }

    // --- kube-controller-manager
    since = Date.now();
    const kcm = group.spawn('kube-controller-manager', bins.kubeControllerManager, [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      `--controllers=${(options.controllers ?? DEFAULT_CONTROLLERS).join(',')}`,
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${caFile}`,
      `--use-service-account-credentials=false`,
      `--leader-elect=false`,
      `--bind-address=127.0.0.1`,
      `--secure-port=${kcmPort}`,
    ]);
    // The service-account controller creating `default` in `default` proves the controllers run.
    await group.waitFor(
      'kube-controller-manager (ServiceAccount default/default)',
      async () =>
        (await admin.raw('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      { timeoutMs, watch: [etcd, apiserver, kcm] },
    );
    phase('kube-controller-manager', since);

    const startupMs = Date.now() - t0;
    const info: ControlPlaneInfo = {
      server,
      kubeconfigPath,
      caFile,
      clientCaFile: clientCa.certFile,
      clientCaKeyFile: clientCa.keyFile,
      adminToken,
      users,
      stateDir,
      pidFile: group.pidFile,
      ownerPid: process.pid,
      ownerStartTime: processStartTime(process.pid),
      startupMs,
    };
    writeFileSync(join(stateDir, CONTROL_PLANE_INFO_FILE), JSON.stringify(info, null, 2) + '\n', {
      mode: 0o600,
    });
    log(`control plane ready at ${server} in ${startupMs} ms (${phases.join(', ')}); state in ${stateDir}`);

    return {
      ...info,
      target,
      userToken(name: string): string {
        const tok = users[name];
        if (tok === undefined)
          throw new Error(`no static user ${name}; known: ${Object.keys(users).join(', ')}`);
        return tok;
      },
      mintServiceAccountToken: (namespace, name, opts = {}) =>
        mintServiceAccountToken(target, namespace, name, opts),
      async stop(): Promise<void> {
        await group.stop();
        if (!keep) rmSync(join(stateDir, CONTROL_PLANE_INFO_FILE), { force: true });
      },
    };
  } catch (err) {
    // Keep the logs for debugging: only processes are stopped, nothing is removed.
    await group.stop(3000, false);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`control plane failed to start (logs in ${stateDir}): ${message}`);
  }
}

function servesKnative(crd: Record<string, unknown>): boolean {
  return (crd['metadata'] as { name?: string } | undefined)?.name === 'services.serving.knative.dev';
}

/**
 * The user and groups Kubernetes gives a ServiceAccount's token (what {@link mintServiceAccountToken}
 * authenticates as): to impersonate the account, or to ask a SubjectAccessReview about it.
 */
export function serviceAccountIdentity(namespace: string, name: string): Impersonation {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** Namespace and ServiceAccount (created when missing), then a bound token from the TokenRequest API. */
export async function mintServiceAccountToken(
  target: KubeTarget,
  namespace: string,
  name: string,
  { expirationSeconds = 3600, audiences }: { expirationSeconds?: number; audiences?: string[] } = {},
): Promise<string> {
  const rest = KubeRest.fromTarget(target);
  const exists = (err: unknown): void => {
    if (!(err instanceof ConflictError)) throw err;
  };
  await rest.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } }).catch(exists);
  await rest
    .request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { body: { metadata: { name } } })
    .catch(exists);
  const res = await rest.request<{ status?: { token?: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds, ...(audiences ? { audiences } : {}) },
      },
    },
  );
  rest.close();
  const tok = res.status?.token;
  if (!tok) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return tok;
}

function kubeconfig(
  server: string,
  caFile: string,
  adminToken: string,
  users: Record<string, string>,
): string {
  const cluster = 'capp-test';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority': caFile } }],
    users: [
      { name: ADMIN_USER, user: { token: adminToken } },
      ...Object.entries(users).map(([name, tok]) => ({ name, user: { token: tok } })),
    ],
    contexts: [
      { name: cluster, context: { cluster, user: ADMIN_USER, namespace: 'default' } },
      ...Object.keys(users).map((name) => ({
        name: `${cluster}-${name}`,
        context: { cluster, user: name, namespace: 'default' },
      })),
    ],
    'current-context': cluster,
  });
}
