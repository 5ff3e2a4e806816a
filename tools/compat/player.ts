/**
 * The player: stands in for the controllers a Capp's children need (Knative Serving, cert-manager,
 * provider-dns, nfspvc-operator, logging operator) by writing the statuses they would write
 * (play.ts), through the one Kubernetes client. Knative is played in full where the v0.3.5 suite
 * looks: a Revision per template (ready unless its image or a Secret it reads is missing), garbage
 * collected with its Service, and the Service's latest created / ready Revision.
 */
import type { KubeObject } from '@capp/capp-model';
import { KNATIVE_SERVICE } from '@capp/knative-adapter';
import {
  CONFIGMAP_TYPE,
  ConflictError,
  Informer,
  isNotFound,
  KubeClient,
  type KubeRest,
  type ResourceType,
  SECRET_TYPE,
} from '@capp/kube';

import {
  CONFIGURATION,
  configurationFor,
  LABEL_SERVICE,
  nextRevision,
  observations,
  ownedRevisions,
  playedStatus,
  REVISION,
  revisionNeeds,
  revisionStatus,
  revisionVerdict,
  serviceStatus,
  SIMPLE_KINDS,
  statusHolds,
  tlsSecretFor,
} from './play';

export const PLAYER_FIELD_MANAGER = 'capp-compat-player';

export interface PlayerOptions {
  /** Images that do not resolve (the player has no registry to ask): their Revisions fail. */
  missingImages?: readonly string[];
  log?: (line: string) => void;
  /** Namespace of the operator's ConfigMaps, recorded as observations. */
  configNamespace?: string;
  /** Attempts per object before an error is only logged. */
  maxAttempts?: number;
}

type Work = () => Promise<void>;

const SERVICE_TYPE = KNATIVE_SERVICE;
const REVISION_TYPE = REVISION;
const CONFIGURATION_TYPE = CONFIGURATION;

export class Player {
  private readonly client: KubeClient;
  private readonly informers: Array<Informer<KubeObject>> = [];
  private readonly pending = new Map<string, { work: Work; attempt: number }>();
  private readonly missingImages: ReadonlySet<string>;
  private readonly log: (line: string) => void;
  private readonly maxAttempts: number;
  private draining?: Promise<void>;
  private stopped = false;
  private readonly configNamespace?: string;
  /** Writes made, by `<kind> <what>`: the run prints them. */
  readonly counts = new Map<string, number>();
  /** Values seen (play.ts `observations`), by what they are. */
  readonly observed = new Map<string, Set<string>>();

  constructor(rest: KubeRest, options: PlayerOptions = {}) {
    this.client = new KubeClient(rest, {
      fieldManager: PLAYER_FIELD_MANAGER,
      types: [SERVICE_TYPE, CONFIGURATION_TYPE, REVISION_TYPE, ...SIMPLE_KINDS],
    });
    this.missingImages = new Set(options.missingImages ?? []);
    this.log = options.log ?? ((): void => undefined);
    this.maxAttempts = options.maxAttempts ?? 10;
    this.configNamespace = options.configNamespace;
  }

  /** Starts one informer per played kind; resolves once all have listed. */
  async start(): Promise<void> {
    const watch = (type: ResourceType, handle: (obj: KubeObject) => Work, namespace?: string): void => {
      const informer: Informer<KubeObject> = new Informer<KubeObject>(
        this.client.rest,
        type,
        {
          onAdd: (obj) => this.enqueue(obj, handle(obj)),
          onUpdate: (obj) => this.enqueue(obj, handle(obj)),
        },
        { namespace, onError: (err) => this.log(`watch ${type.kind}: ${String(err)}`) },
      );
      this.informers.push(informer);
      informer.start();
    };
    watch(SERVICE_TYPE, (obj) => () => this.playService(obj));
    for (const kind of SIMPLE_KINDS) {
      const type = kind;
      watch(type, (obj) => () => this.playSimple(type, obj));
    }
    if (this.configNamespace) {
      watch(CONFIGMAP_TYPE, (obj) => () => Promise.resolve(this.observe(obj)), this.configNamespace);
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.draining;
  }

  private observe(obj: KubeObject): void {
    for (const [what, value] of observations(obj)) {
      this.observed.set(what, (this.observed.get(what) ?? new Set()).add(value));
    }
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  /** One object at a time, latest event wins: a kind's controller never races itself. */
  private enqueue(obj: KubeObject, work: Work): void {
    if (this.stopped || obj.metadata.deletionTimestamp) return;
    const key = `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    this.pending.set(key, { work, attempt: this.pending.get(key)?.attempt ?? 0 });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.pending.size > 0) {
      const [key, item] = this.pending.entries().next().value as [string, { work: Work; attempt: number }];
      this.pending.delete(key);
      try {
        await item.work();
      } catch (err) {
        if (isNotFound(err)) continue; // deleted meanwhile
        const attempt = item.attempt + 1;
        this.log(`${key}: attempt ${attempt} failed: ${err instanceof Error ? err.message : String(err)}`);
        if (attempt < this.maxAttempts && !this.pending.has(key)) {
          setTimeout(() => {
            if (this.stopped || this.pending.has(key)) return;
            this.pending.set(key, { work: item.work, attempt });
            this.draining ??= this.drain().finally(() => (this.draining = undefined));
          }, 200 * attempt);
        }
      }
    }
  }

  private async secretKeys(namespace: string, name: string): Promise<Set<string> | undefined> {
    const secret = await this.client.get(SECRET_TYPE, namespace, name);
    if (!secret) return undefined;
    const data = {
      ...(secret['data'] as object | undefined),
      ...(secret['stringData'] as object | undefined),
    };
    return new Set(Object.keys(data));
  }

  /** Knative Serving: cut a Revision for a new template, then report the Service's Revisions. */
  private async playService(seen: KubeObject): Promise<void> {
    const ns = seen.metadata.namespace ?? '';
    // The latest copy: the informer's may predate our own status write.
    const ksvc = await this.client.get(SERVICE_TYPE, ns, seen.metadata.name);
    if (!ksvc || ksvc.metadata.deletionTimestamp) return;
    const listed = await this.client.list(REVISION_TYPE, {
      namespace: ns,
      labelSelector: `${LABEL_SERVICE}=${ksvc.metadata.name}`,
    });
    // As Knative: the Service's Configuration owns its Revisions (Serving's admission checks it).
    const configuration =
      (await this.client.get(CONFIGURATION_TYPE, ns, ksvc.metadata.name)) ??
      (await this.client.create(configurationFor(ksvc)));
    const owned = ownedRevisions(configuration, listed.items);
    const next = nextRevision(ksvc, owned, configuration);
    if (next) {
      const needs = revisionNeeds(next);
      const keys = new Map<string, Set<string> | undefined>();
      for (const name of needs.secrets.keys()) keys.set(name, await this.secretKeys(ns, name));
      const verdict = revisionVerdict(needs, (name) => keys.get(name), this.missingImages);
      const created = await this.client.create(next);
      const now = new Date().toISOString();
      const withStatus = await this.client.patch(
        REVISION_TYPE,
        ns,
        created.metadata.name,
        { status: revisionStatus(created, verdict, now) },
        { subresource: 'status' },
      );
      owned.push(withStatus);
      this.count(`Revision created (${verdict.ready ? 'ready' : 'failed'})`);
      this.log(`Revision ${ns}/${created.metadata.name}: ${verdict.ready ? 'Ready' : verdict.message}`);
    }
    const status = serviceStatus(ksvc, owned, new Date().toISOString());
    if (statusHolds(ksvc.status, status)) return;
    await this.client.patch(SERVICE_TYPE, ns, ksvc.metadata.name, { status }, { subresource: 'status' });
    this.count('Service status');
  }

  /** Every other kind: the status its controller writes when done (and cert-manager's TLS Secret). */
  private async playSimple(type: ResourceType, seen: KubeObject): Promise<void> {
    const ns = seen.metadata.namespace;
    const obj = await this.client.get(type, ns, seen.metadata.name);
    if (!obj || obj.metadata.deletionTimestamp) return;
    this.observe(obj);
    const secret = type.kind === 'Certificate' ? tlsSecretFor(obj) : undefined;
    if (secret && !(await this.client.get(SECRET_TYPE, ns, secret.metadata.name))) {
      await this.client.create(secret).catch((err: unknown) => {
        if (!(err instanceof ConflictError)) throw err; // created meanwhile
      });
      this.count('Secret (TLS) created');
    }
    const status = playedStatus(obj, new Date().toISOString());
    if (!status || statusHolds(obj.status, status)) return;
    await this.client.patch(type, ns, obj.metadata.name, { status }, { subresource: 'status' });
    this.count(`${type.kind} status`);
  }
}
