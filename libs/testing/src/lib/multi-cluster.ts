/**
 * A hub and managed control planes joined by Open Cluster Management's real components (built from the
 * Go module proxy by tools/ocm/build.sh): the placement controller on the hub, a work agent per
 * managed cluster. The Capp operators (the hub's in hub mode, one per managed cluster) are started
 * apart, by `MultiClusterOperators` (the built processes: this library does not import the apps).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { platformCrds } from '@capp/capp-model';
import { KubeRest } from '@capp/kube';
import { stringify } from 'yaml';

import { ocmBuild } from './binaries';
import { type ControlPlane, startControlPlane } from './control-plane';
import { readCrdDir, testCrds } from './crds';
import { freePort } from './ports';
import { type ManagedProcess, ProcessGroup } from './process';

/** The namespace the work agents keep their own objects in (OCM's default). */
export const OCM_AGENT_NAMESPACE = 'open-cluster-management-agent';
/** The namespace of the placement controller's own objects on the hub. */
export const OCM_HUB_NAMESPACE = 'open-cluster-management-hub';

export interface WorkAgent {
  readonly cluster: string;
  readonly running: boolean;
  readonly logFile?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ManagedClusterHandle {
  name: string;
  plane: ControlPlane;
  /** A kubeconfig of the managed cluster's admin with the CA embedded. */
  kubeconfig: string;
  agent: WorkAgent;
}

export interface MultiClusterOptions {
  /** Managed clusters, named `cluster-1`, `cluster-2`, … (default 2). */
  clusters?: number;
  /** Where Placements are made (default `default`); the ManagedClusterSet `default` is bound there. */
  placementsNamespace?: string;
  /** The Placement over every cluster made in it (default `capp-default`). */
  defaultPlacement?: string;
  /** The work agents' `--status-sync-interval` in seconds (default 1: tests see feedback at once). */
  statusSyncSeconds?: number;
  /** Directory for the state of every part (default: a fresh temporary directory). */
  stateDir?: string;
  log?: (line: string) => void;
}

export interface MultiCluster {
  hub: ControlPlane;
  /** A kubeconfig of the hub's admin with the CA embedded. */
  hubKubeconfig: string;
  clusters: ManagedClusterHandle[];
  placementsNamespace: string;
  defaultPlacement: string;
  stateDir: string;
  stop(): Promise<void>;
}

type Obj = Record<string, unknown>;

const HUB_CRDS = [
  'managedclusters',
  'managedclustersets',
  'managedclustersetbindings',
  'placements',
  'placementdecisions',
  'addonplacementscores',
  'manifestworks',
];

function crdPlural(crd: Obj): string {
  return ((crd['spec'] as { names: { plural: string } }).names.plural ?? '') as string;
}

/**
 * A kubeconfig with the CA and a token inline (what OCM's agents need: no file references); the
 * admin's token unless another is given (say, a ServiceAccount's).
 */
export function embeddedKubeconfig(plane: ControlPlane, file: string, token = plane.adminToken): string {
  const cluster = 'capp';
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: cluster,
          cluster: {
            server: plane.server,
            'certificate-authority-data': readFileSync(plane.caFile).toString('base64'),
          },
        },
      ],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: cluster, context: { cluster, user: 'admin' } }],
      'current-context': cluster,
    }),
    { mode: 0o600 },
  );
  return file;
}

/**
 * Starts the hub (Capp CRDs and OCM's hub CRDs, no Knative admission: nothing is rendered there) and
 * the managed control planes (the platform's CRDs and AppliedManifestWork) at once; registers each
 * managed cluster on the hub (a ManagedCluster in the ManagedClusterSet `default`, its namespace), binds
 * the set to the placements namespace with a Placement over every cluster, then starts the placement
 * controller and one work agent per cluster (RawFeedbackJsonString on, so status comes back as JSON).
 */
export async function startMultiCluster(options: MultiClusterOptions = {}): Promise<MultiCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[capp-testing] ${line}\n`));
  const count = options.clusters ?? 2;
  const placementsNamespace = options.placementsNamespace ?? 'default';
  const defaultPlacement = options.defaultPlacement ?? 'capp-default';
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'capp-multicluster-'));
  mkdirSync(stateDir, { recursive: true });
  const ocm = await ocmBuild();
  const ocmCrds = readCrdDir(ocm.crdDir);
  const hubCrds = ocmCrds.filter((c) => HUB_CRDS.includes(crdPlural(c)));
  const agentCrds = ocmCrds.filter((c) => crdPlural(c) === 'appliedmanifestworks');
  const names = Array.from({ length: count }, (_, i) => `cluster-${i + 1}`);

  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
  };
  try {
    const planes = await Promise.all([
      startControlPlane({
        stateDir: join(stateDir, 'hub'),
        crds: [...platformCrds().map((c) => c.crd), ...hubCrds],
        knativeAdmission: false,
        log,
      }),
      ...names.map((name) =>
        startControlPlane({ stateDir: join(stateDir, name), crds: [...testCrds().crds, ...agentCrds], log }),
      ),
    ]);
    started.push(...planes);
    const [hub, ...managedPlanes] = planes;
    const hubKubeconfig = embeddedKubeconfig(hub, join(stateDir, 'hub.kubeconfig'));
    const hubRest = KubeRest.fromTarget(hub.target);
    const apply = (rest: KubeRest, obj: Obj): Promise<unknown> =>
      rest.request('PATCH', pathOf(obj), {
        query: { fieldManager: 'capp-testing', force: true },
        body: obj,
        contentType: 'application/apply-patch+yaml',
      });
    for (const ns of [placementsNamespace, OCM_HUB_NAMESPACE, ...names]) {
      await apply(hubRest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    await apply(hubRest, {
      apiVersion: 'cluster.open-cluster-management.io/v1beta2',
      kind: 'ManagedClusterSet',
      metadata: { name: 'default' },
      spec: { clusterSelector: { selectorType: 'ExclusiveClusterSetLabel' } },
    });
    for (const name of names) {
      await apply(hubRest, {
        apiVersion: 'cluster.open-cluster-management.io/v1',
        kind: 'ManagedCluster',
        metadata: { name, labels: { name, 'cluster.open-cluster-management.io/clusterset': 'default' } },
        spec: { hubAcceptsClient: true },
      });
    }
    await apply(hubRest, {
      apiVersion: 'cluster.open-cluster-management.io/v1beta2',
      kind: 'ManagedClusterSetBinding',
      metadata: { name: 'default', namespace: placementsNamespace },
      spec: { clusterSet: 'default' },
    });
    await apply(hubRest, {
      apiVersion: 'cluster.open-cluster-management.io/v1beta1',
      kind: 'Placement',
      metadata: { name: defaultPlacement, namespace: placementsNamespace },
      spec: { clusterSets: ['default'] },
    });

    const hubGroup = new ProcessGroup('ocm-hub', join(stateDir, 'hub'));
    started.push({ stop: () => hubGroup.stop() });
    const placementProc = hubGroup.spawn('placement', ocm.placement, [
      'controller',
      `--kubeconfig=${hubKubeconfig}`,
      `--namespace=${OCM_HUB_NAMESPACE}`,
      '--disable-leader-election',
      `--listen=127.0.0.1:${await freePort()}`,
    ]);
    await hubGroup.waitFor(
      `the placement controller to decide Placement ${defaultPlacement} on ${count} clusters`,
      async () => {
        const list = await hubRest.request<{ items: Array<{ status?: { decisions?: unknown[] } }> }>(
          'GET',
          `/apis/cluster.open-cluster-management.io/v1beta1/namespaces/${placementsNamespace}/placementdecisions`,
          { query: { labelSelector: `cluster.open-cluster-management.io/placement=${defaultPlacement}` } },
        );
        return list.items.reduce((n, d) => n + (d.status?.decisions?.length ?? 0), 0) === count;
      },
      { timeoutMs: 60_000, watch: [placementProc] },
    );

    const clusters: ManagedClusterHandle[] = [];
    for (const [i, name] of names.entries()) {
      const plane = managedPlanes[i];
      const rest = KubeRest.fromTarget(plane.target);
      await apply(rest, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OCM_AGENT_NAMESPACE } });
      rest.close();
      const kubeconfig = embeddedKubeconfig(plane, join(stateDir, `${name}.kubeconfig`));
      const agent = workAgent({
        cluster: name,
        binary: ocm.work,
        hubKubeconfig,
        kubeconfig,
        logDir: join(stateDir, name),
        statusSyncSeconds: options.statusSyncSeconds ?? 1,
      });
      await agent.start();
      started.push(agent);
      clusters.push({ name, plane, kubeconfig, agent });
    }
    hubRest.close();
    log(`multi-cluster: hub ${hub.server}, ${clusters.map((c) => `${c.name} ${c.plane.server}`).join(', ')}`);
    return { hub, hubKubeconfig, clusters, placementsNamespace, defaultPlacement, stateDir, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function pathOf(obj: Obj): string {
  const apiVersion = obj['apiVersion'] as string;
  const kind = obj['kind'] as string;
  const meta = obj['metadata'] as { name: string; namespace?: string };
  const plural = `${kind.toLowerCase()}s`.replace(/ys$/, 'ies');
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = meta.namespace ? `/namespaces/${meta.namespace}` : '';
  return `${base}${ns}/${plural}/${meta.name}`;
}

interface WorkAgentOptions {
  cluster: string;
  binary: string;
  hubKubeconfig: string;
  kubeconfig: string;
  logDir: string;
  statusSyncSeconds: number;
}

/** OCM's work agent for one managed cluster: stoppable and startable again (the tests' fault). */
function workAgent(options: WorkAgentOptions): WorkAgent {
  let group: ProcessGroup | undefined;
  let proc: ManagedProcess | undefined;
  let runs = 0;
  return {
    cluster: options.cluster,
    get running() {
      return proc?.isRunning() ?? false;
    },
    get logFile() {
      return proc?.logFile;
    },
    async start() {
      if (proc?.isRunning()) return;
      group = new ProcessGroup(`work-agent-${++runs}`, options.logDir);
      proc = group.spawn('work-agent', options.binary, [
        'agent',
        `--spoke-cluster-name=${options.cluster}`,
        `--agent-id=${options.cluster}-agent`,
        `--workload-source-config=${options.hubKubeconfig}`,
        `--kubeconfig=${options.kubeconfig}`,
        `--namespace=${OCM_AGENT_NAMESPACE}`,
        '--disable-leader-election',
        `--listen=127.0.0.1:${await freePort()}`,
        '--feature-gates=RawFeedbackJsonString=true',
        `--status-sync-interval=${options.statusSyncSeconds}s`,
        // A Capp's conditions exceed the default 1 KiB of a raw JSON feedback value.
        '--max-json-raw-length=16384',
      ]);
      await group.waitFor('the work agent to start', () => proc?.isRunning() && Promise.resolve(true), {
        timeoutMs: 5000,
      });
    },
    async stop() {
      await group?.stop();
      group = undefined;
    },
  };
}
