import type { Capp, CappTrait, KnativeSettings } from '@capp/capp-model';
import { usesTrait } from '@capp/knative-adapter';
import {
  CAPP_TRAIT_TYPE,
  CAPP_TYPE,
  Informer,
  isNotFound,
  type KubeRest,
  resourcePath,
  SECRET_TYPE,
} from '@capp/kube';
import type { Logger } from 'pino';

import { ClusterLookups, mutateAdmission, validateAdmission, validateTraitAdmission } from './admission';
import { KnativeSettingsSource } from './knative-settings';
import { startWebhookServer, WebhookServer } from './server';

export const VALIDATE_PATH = '/validate-capp';
export const MUTATE_PATH = '/mutate-capp';
export const VALIDATE_TRAIT_PATH = '/validate-capptrait';

export interface WebhookOptions {
  port: number;
  certDir: string;
  /** Users that may name the end user in rcs.dana.io/last-updated-by (the REST API's ServiceAccount). */
  trustedUpdaters: string[];
  /** Namespace of Knative Serving's ConfigMaps (default knative-serving). */
  knativeNamespace?: string;
}

/**
 * The admission webhooks, served by every replica (not only the leader): their own Capp cache for
 * hostname uniqueness, and a metadata-only GET for a Secret's existence (its data is never read).
 */
export class CappWebhooks implements ClusterLookups {
  private readonly capps: Informer<Capp>;
  private readonly knative: KnativeSettingsSource;
  private readonly traits: Informer<CappTrait>;
  private server?: WebhookServer;

  constructor(
    private readonly rest: KubeRest,
    private readonly options: WebhookOptions,
    private readonly logger: Logger,
  ) {
    this.capps = new Informer(
      rest,
      CAPP_TYPE,
      {},
      {
        onError: (err) =>
          logger.warn(
            { event: 'webhook-informer-error', err: String(err) },
            'webhook capp watch failed; relisting',
          ),
      },
    );
    this.knative = new KnativeSettingsSource(rest, options.knativeNamespace ?? 'knative-serving', logger);
    this.traits = new Informer(
      rest,
      CAPP_TRAIT_TYPE,
      {},
      {
        optional: true,
        onError: (err) =>
          logger.warn(
            { event: 'webhook-informer-error', err: String(err) },
            'webhook capptrait watch failed; relisting',
          ),
      },
    );
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  async start(): Promise<void> {
    this.capps.start();
    this.traits.start();
    await Promise.all([this.capps.waitForSync(), this.traits.waitForSync(), this.knative.start()]);
    const trusted = new Set(this.options.trustedUpdaters);
    this.server = await startWebhookServer(
      this.options.port,
      this.options.certDir,
      {
        [VALIDATE_PATH]: (req) => validateAdmission(req, this),
        [MUTATE_PATH]: (req) => mutateAdmission(req, trusted),
        [VALIDATE_TRAIT_PATH]: (req) => validateTraitAdmission(req, this),
      },
      this.logger,
    );
  }

  async stop(): Promise<void> {
    await this.server?.close();
    await Promise.all([this.capps.stop(), this.traits.stop(), this.knative.stop()]);
  }

  trait(name: string): CappTrait | undefined {
    return this.traits.get(undefined, name);
  }

  cappsUsingTrait(name: string): Array<{ namespace: string; name: string }> {
    return this.capps
      .list()
      .filter((c) => !c.metadata.deletionTimestamp && usesTrait(c, name))
      .map((c) => ({ namespace: c.metadata.namespace ?? '', name: c.metadata.name }));
  }

  async secretExists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.rest.request('GET', resourcePath(SECRET_TYPE, namespace, name), {
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  knativeSettings(): KnativeSettings {
    return this.knative.settings();
  }

  cappsWithHostname(hostname: string): Array<{ namespace: string; name: string }> {
    const want = hostname.replace(/\.$/, '');
    return this.capps
      .list()
      .filter(
        (c) => !c.metadata.deletionTimestamp && c.spec?.routeSpec?.hostname?.replace(/\.$/, '') === want,
      )
      .map((c) => ({ namespace: c.metadata.namespace ?? '', name: c.metadata.name }));
  }
}
