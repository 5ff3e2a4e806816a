/**
 * The Capp operators of a {@link MultiCluster} as real processes: one on each managed cluster (with
 * leader election: its Lease is the cluster's heartbeat) and the hub's in hub mode over the
 * environment's Placements; and Knative played on the managed clusters, where it does not run.
 */
import type { KubeObject } from '@capp/capp-model';
import { KNATIVE_SERVICE } from '@capp/knative-adapter';
import { KubeClient, KubeRest } from '@capp/kube';

import type { MultiCluster } from './multi-cluster';
import { OperatorProcess } from './operator-process';

/** Where a managed cluster's operator keeps its Lease. */
const OPERATOR_NAMESPACE = 'capp-operator-system';

export interface MultiClusterOperatorsOptions {
  /** Flags of each managed cluster's operator, after its `--kubeconfig`. */
  managedArgs?: string[];
  /** The hub operator's kubeconfig (default: the hub admin's). */
  hubKubeconfig?: string;
  /** The hub operator's `--cluster-heartbeat-timeout-seconds`. */
  heartbeatTimeoutSeconds: number;
  /** More flags of the hub operator. */
  hubArgs?: string[];
}

/**
 * Every process exists from the construction on, so that a caller can kill or stop them all even when
 * a start failed halfway (stopping one never started does nothing).
 */
export class MultiClusterOperators {
  readonly hub = new OperatorProcess('hub operator');
  /** One per managed cluster, in the order of {@link MultiCluster.clusters}. */
  readonly managed: OperatorProcess[];

  constructor(private readonly env: MultiCluster) {
    this.managed = env.clusters.map((c) => new OperatorProcess(`operator on ${c.name}`));
  }

  /** Starts the managed clusters' operators one after another, then the hub's (leader election off). */
  async start(options: MultiClusterOperatorsOptions): Promise<void> {
    for (const [i, c] of this.env.clusters.entries()) {
      const rest = KubeRest.fromKubeconfig(c.kubeconfig);
      await new KubeClient(rest, { fieldManager: 'capp-testing' }).apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: OPERATOR_NAMESPACE },
      });
      rest.close();
      await this.managed[i].start({
        args: ['--kubeconfig', c.kubeconfig, ...(options.managedArgs ?? [])],
        ports: true,
        timeoutMs: 120_000,
      });
    }
    await this.hub.start({
      args: [
        '--kubeconfig',
        options.hubKubeconfig ?? this.env.hubKubeconfig,
        '--hub',
        'true',
        '--leader-elect',
        'false',
        '--placements-namespace',
        this.env.placementsNamespace,
        '--default-placement',
        this.env.defaultPlacement,
        '--cluster-heartbeat-timeout-seconds',
        String(options.heartbeatTimeoutSeconds),
        ...(options.hubArgs ?? []),
      ],
      ports: true,
    });
  }

  /** Stops the hub's operator, then the managed ones; each is stopped even when another fails to. */
  async stop(): Promise<void> {
    const failures: unknown[] = [];
    for (const p of [this.hub, ...this.managed]) await p.stop().catch((err: unknown) => failures.push(err));
    if (failures.length) throw failures[0];
  }
}

/**
 * Plays Knative's controller for a Knative Service on a cluster without Knative: applies its status as
 * Ready at its generation, with the URL `http://<name>.<namespace>.<cluster>.example.com`. `client`
 * must know the Knative Service type.
 */
export async function markKnativeServiceReady(
  client: KubeClient,
  ksvc: KubeObject,
  cluster: string,
): Promise<void> {
  const { name, namespace } = ksvc.metadata;
  await client.apply(
    {
      apiVersion: KNATIVE_SERVICE.apiVersion,
      kind: KNATIVE_SERVICE.kind,
      metadata: { name, namespace },
      status: {
        observedGeneration: ksvc.metadata.generation,
        url: `http://${name}.${namespace}.${cluster}.example.com`,
        latestReadyRevisionName: `${name}-00001`,
        latestCreatedRevisionName: `${name}-00001`,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Ready',
            lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
          },
        ],
      },
    },
    { subresource: 'status' },
  );
}
