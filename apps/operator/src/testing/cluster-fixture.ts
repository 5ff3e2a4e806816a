import { randomBytes } from 'node:crypto';

import type { KubeObject } from '@capp/capp-model';
import type { LoggingBackend } from '@capp/knative-adapter';
import { CAPP_TYPE, CONFIGMAP_TYPE, KubeClient, KubeRest, resourcePath, ResourceType } from '@capp/kube';
import { serviceAccountIdentity, waitFor } from '@capp/testing';
import pino from 'pino';

import type { CappController } from '../controller';
import type { HealthScopeController } from '../health/healthscope-controller';
import { createOperator, type Operator, operatorClient, type OperatorMetricsPort } from '../wiring';

/** Objects as the integration tests write and read them. */
export type Obj = KubeObject;

export const suffix = (): string => randomBytes(3).toString('hex');

export function adminRest(): KubeRest {
  const kubeconfig = process.env['KUBECONFIG'];
  if (!kubeconfig) throw new Error('KUBECONFIG is not set: run through the jest globalSetup of libs/testing');
  return KubeRest.fromKubeconfig(kubeconfig);
}

/**
 * `<namespace>:<name>` of a ServiceAccount to run the controller as (tools/helm/chart-operator.spec.ts sets it
 * to the chart's operator account, to run this suite with only the chart's RBAC). Unset: admin.
 */
const OPERATOR_ACCOUNT = process.env['CAPP_TEST_OPERATOR_SA'];

/** The controller's client: the admin, or the chart's ServiceAccount (see OPERATOR_ACCOUNT). */
function operatorRest(): KubeRest {
  if (!OPERATOR_ACCOUNT) return adminRest();
  const [namespace, name] = OPERATOR_ACCOUNT.split(':');
  return KubeRest.fromKubeconfig(process.env['KUBECONFIG'] ?? '', {
    impersonate: serviceAccountIdentity(namespace, name),
  });
}

export { waitFor };

/** A test's own namespaces, ConfigMaps and a controller watching only them. */
export class ClusterFixture {
  readonly rest = adminRest();
  /** The admin's client, under the tests' own field manager. */
  readonly client: KubeClient = operatorClient(this.rest, 'capp-e2e');
  readonly ns = `capp-it-${suffix()}`;
  readonly operatorNs = `capp-op-${suffix()}`;
  controller?: CappController;
  operator?: Operator;
  /** Counts of the controller's own client (reads/writes/watches). */
  controllerRest?: KubeRest;

  async setUp(): Promise<void> {
    for (const name of [this.ns, this.operatorNs]) {
      await this.rest.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      });
    }
    if (OPERATOR_ACCOUNT) await this.copyChartRoles(OPERATOR_ACCOUNT.split(':')[0]);
  }

  /**
   * The chart gives the operator a Role in its own namespace (ConfigMaps, the Lease); this test's
   * operator namespace is its own, so the same Roles and RoleBindings are copied here.
   */
  private async copyChartRoles(releaseNs: string): Promise<void> {
    const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces';
    const strip = (o: { metadata: { name: string } }): { name: string } => ({ name: o.metadata.name });
    const roles = await this.rest.request<{ items: Array<{ metadata: { name: string }; rules: unknown }> }>(
      'GET',
      `${rbac}/${releaseNs}/roles`,
    );
    for (const role of roles.items) {
      await this.rest.request('POST', `${rbac}/${this.operatorNs}/roles`, {
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: strip(role),
          rules: role.rules,
        },
      });
    }
    const bindings = await this.rest.request<{
      items: Array<{ metadata: { name: string }; roleRef: unknown; subjects: unknown }>;
    }>('GET', `${rbac}/${releaseNs}/rolebindings`);
    for (const binding of bindings.items) {
      await this.rest.request('POST', `${rbac}/${this.operatorNs}/rolebindings`, {
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: strip(binding),
          roleRef: binding.roleRef,
          subjects: binding.subjects,
        },
      });
    }
  }

  async startController(
    opts: {
      resyncSeconds?: number;
      concurrency?: number;
      cappRevisions?: boolean;
      loggingBackend?: LoggingBackend;
      probeConcurrency?: number;
      metrics?: OperatorMetricsPort;
      /** Watched namespaces (default: the test's own). */
      namespaces?: string[];
      /** Hosts traits' processing.http may GET from. */
      traitHttpAllowedHosts?: string[];
    } = {},
  ): Promise<CappController> {
    const rest = operatorRest();
    this.controllerRest = rest;
    const logger = pino({ level: process.env['CAPP_TEST_LOG'] ?? 'silent' });
    this.operator = createOperator(
      rest,
      {
        namespaces: opts.namespaces ?? [this.ns],
        operatorNamespace: this.operatorNs,
        concurrency: opts.concurrency ?? 4,
        resyncSeconds: opts.resyncSeconds ?? 0,
        cappRevisions: opts.cappRevisions,
        loggingBackend: opts.loggingBackend,
        probeConcurrency: opts.probeConcurrency,
        traitHttpAllowedHosts: opts.traitHttpAllowedHosts,
      },
      logger,
      opts.metrics,
    );
    this.controller = this.operator.controller;
    await this.operator.start();
    return this.controller;
  }

  /** The HealthScope controller of the running operator. */
  get healthScopes(): HealthScopeController {
    const h = this.operator?.healthScopes;
    if (!h) throw new Error('no operator running: call startController() first');
    return h;
  }

  async stopController(): Promise<void> {
    await this.operator?.stop();
    this.operator = undefined;
    this.controller = undefined;
  }

  async tearDown(): Promise<void> {
    // Delete the Capps while the controller still runs: their finalizer would block the namespace.
    await this.rest.request('DELETE', resourcePath(CAPP_TYPE, this.ns)).catch(() => undefined);
    await waitFor('test Capps finalized', async () => {
      const list = await this.rest.request<{ items: unknown[] }>('GET', resourcePath(CAPP_TYPE, this.ns));
      return list.items.length === 0;
    }).catch(() => undefined);
    await this.stopController();
    for (const name of [this.ns, this.operatorNs]) {
      await this.rest.request('DELETE', `/api/v1/namespaces/${name}`).catch(() => undefined);
    }
    this.rest.close();
  }

  async apply(obj: Obj, subresource?: 'status', fieldManager = 'capp-e2e'): Promise<Obj> {
    const client = fieldManager === 'capp-e2e' ? this.client : operatorClient(this.rest, fieldManager);
    return client.apply(obj, { subresource });
  }

  async get(type: ResourceType | Obj, namespace: string | undefined, name: string): Promise<Obj | undefined> {
    const t: ResourceType = 'plural' in type ? (type as ResourceType) : this.client.types.of(type as Obj);
    return this.client.get(t, namespace, name);
  }

  async remove(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    await this.client.delete(type, namespace, name);
  }

  async configMap(name: string, data: Record<string, string>): Promise<void> {
    await this.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: this.operatorNs },
      data,
    });
  }

  async deleteConfigMap(name: string): Promise<void> {
    await this.remove(CONFIGMAP_TYPE, this.operatorNs, name);
  }

  async events(involvedName: string): Promise<Array<{ reason: string; message: string; type: string }>> {
    const list = await this.rest.request<{ items: Array<{ reason: string; message: string; type: string }> }>(
      'GET',
      `/api/v1/namespaces/${this.ns}/events`,
      { query: { fieldSelector: `involvedObject.name=${involvedName}` } },
    );
    return list.items;
  }
}
