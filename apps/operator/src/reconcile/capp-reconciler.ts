import {
  AppliedTrait,
  Capp,
  CAPP_FINALIZER,
  CappStatus,
  CONDITION_READY,
  KubeObject,
  ManagedResource,
  sameJson,
  withSpecDefaults,
} from '@capp/capp-model';
import {
  applyTraits,
  autoAppliedTraits,
  AUTOSCALE_DEFAULTS_CONFIGMAP,
  CAPP_CONDITIONS,
  cappDomain,
  childKey,
  computeStatus,
  ConfigError,
  DesiredChild,
  DNS_CONFIGMAP,
  type LoggingBackend,
  ObservedChild,
  parseAutoscaleDefaults,
  parseDnsConfig,
  renderChildren,
  RenderError,
  statusEqual,
  tlsSecretName,
  toManagedResource,
  TraitError,
  type TraitHttpRequest,
} from '@capp/knative-adapter';
import { isPermanent, KubeApiError } from '@capp/kube';
import type { Logger } from 'pino';

import { ANNOTATION_APPLIED_HASH, hashOf, isSubset } from './drift';
import { errorMessage, ReconcileError } from './errors';
import type { ClientPort, EventsPort, ReadPort, ReconcileMetrics } from './ports';
import { planRevisions } from './revisions';
import { TraitHttpRefused } from './trait-http';

export interface ReconcilerDeps {
  /** What a Capp's logSpec becomes (default fluentd: Flow and Output). */
  loggingBackend?: LoggingBackend;
  /** The caches: every decision is taken from them. */
  read: ReadPort;
  /** Writes (the write-through client tells the caches what it wrote). */
  client: ClientPort;
  events: EventsPort;
  metrics?: ReconcileMetrics;
  logger: Logger;
  clock?: () => Date;
  /** Answers traits' `processing.http` (allow-list, timeout, cache); without it such traits fail. */
  traitHttp?: { fetch(request: TraitHttpRequest): Promise<unknown> };
}

/** A problem that retrying the same input will not fix: reported in status, not retried. */
const REASON_INVALID_CONFIG = 'InvalidConfig';
const REASON_INVALID_SPEC = 'InvalidSpec';

const refOf = (o: {
  apiVersion: string;
  kind: string;
  metadata: { namespace?: string; name: string };
}): string => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

const managedKey = (m: ManagedResource): string => `${m.apiVersion}/${m.kind}/${m.namespace ?? ''}/${m.name}`;

const NOTE_VERBS: Record<string, string> = {
  Created: 'created',
  Updated: 'updated',
  Deleted: 'deleted',
  DriftCorrected: 'restored (changed outside the operator)',
};

/** What one reconcile did, recorded as one Event per reason rather than one per child. */
class EventNotes {
  private readonly byReason = new Map<string, string[]>();

  add(reason: keyof typeof NOTE_VERBS, ref: string): void {
    this.byReason.set(reason, [...(this.byReason.get(reason) ?? []), ref]);
  }

  flush(capp: Capp, events: EventsPort): void {
    for (const [reason, refs] of this.byReason)
      events.record(capp, 'Normal', reason, `${NOTE_VERBS[reason]} ${refs.join(', ')}`);
    this.byReason.clear();
  }
}

/**
 * Turns one Capp into its children and keeps them so (DESIGN §4). Every decision is taken from the
 * informers' caches; the API server is written to only when something differs, so a converged Capp
 * costs no writes.
 */
export class CappReconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  private now(): string {
    return (this.deps.clock?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const capp = this.deps.read.capp(namespace, name);
    if (!capp) return; // deleted: namespaced children go with their owner, the finalizer handled the rest
    const log = this.deps.logger.child({ namespace, name, generation: capp.metadata.generation });

    if (capp.metadata.deletionTimestamp) {
      await this.finalize(capp, log);
      return;
    }
    if (!capp.metadata.finalizers?.includes(CAPP_FINALIZER)) {
      await this.deps.client.apply(this.finalizerPatch(capp, true));
      log.info({ event: 'finalizer-added' }, 'finalizer added');
    }
    // Reported after the children and status, which a failure here must not hold up.
    const revisionFailure = await this.keepRevisions(capp, log);

    let desired: DesiredChild[];
    let traits: AppliedTrait[];
    try {
      ({ desired, traits } = await this.render(capp));
    } catch (err) {
      if (err instanceof TraitError) {
        log.warn({ event: 'traits-failed', reason: err.reason, err: err.message }, 'cannot apply traits');
        this.deps.events.record(capp, 'Warning', err.reason, err.message);
        await this.writeStatus(capp, this.failedRenderStatus(capp, err.reason, err.message), log);
        if (revisionFailure) throw revisionFailure;
        throw new ReconcileError('TraitFailed', err.message, err.retryable);
      }
      if (err instanceof ConfigError || err instanceof RenderError) {
        const reason = err instanceof ConfigError ? REASON_INVALID_CONFIG : REASON_INVALID_SPEC;
        log.warn({ event: 'render-failed', reason, err: err.message }, 'cannot render children');
        await this.writeStatus(capp, this.failedRenderStatus(capp, reason, err.message), log);
        if (revisionFailure) throw revisionFailure;
        return;
      }
      throw err;
    }

    const observed = new Map<string, ObservedChild>();
    const transient: string[] = [];
    const rejected: string[] = [];
    const notes = new EventNotes();
    for (const child of desired) {
      const result = await this.applyChild(capp, child, log, notes);
      observed.set(childKey(child), result.observed);
      if (result.transient) transient.push(result.transient);
      if (result.rejected) rejected.push(result.rejected);
    }

    const leftovers = await this.prune(capp, desired, log, notes);
    notes.flush(capp, this.deps.events);

    const status = computeStatus({ capp, desired, observed, previous: capp.status, now: this.now() });
    status.managedResources = [...(status.managedResources ?? []), ...leftovers];
    if (traits.length) status.traits = traits;
    else delete status.traits;
    this.noteTraits(capp, traits, log);
    await this.writeStatus(capp, status, log);
    if (transient.length)
      throw new ReconcileError('Transient', `children not applied yet: ${transient.join('; ')}`, true);
    // Reported in status; retrying the same input cannot help, a change of the Capp will.
    if (rejected.length)
      throw new ReconcileError('ChildRejected', `children rejected: ${rejected.join('; ')}`, false);
    if (revisionFailure) throw revisionFailure;
  }

  /**
   * The Capp's CappRevisions, as v0.3.5 keeps them ({@link planRevisions}): one more when its spec,
   * labels or annotations changed, at most ten. Returns what failed, for the caller to throw last.
   */
  private async keepRevisions(capp: Capp, log: Logger): Promise<unknown> {
    const existing = this.deps.read.revisionsOf(capp.metadata.namespace ?? '', capp.metadata.name);
    if (!existing) return undefined;
    const plan = planRevisions(capp, existing);
    if (!plan.create) return undefined;
    try {
      for (const old of plan.delete) {
        await this.deps.client.delete({
          apiVersion: old.apiVersion,
          kind: old.kind,
          namespace: old.metadata.namespace,
          name: old.metadata.name,
        });
        log.info({ event: 'revision-deleted', revision: old.metadata.name }, 'oldest CappRevision deleted');
      }
      await this.deps.client.create(plan.create);
      log.info({ event: 'revision-created', revision: plan.create.metadata.name }, 'CappRevision created');
      return undefined;
    } catch (err) {
      const message = errorMessage(err);
      log.warn({ event: 'revision-failed', err: message }, 'could not keep the CappRevisions');
      this.deps.events.record(capp, 'Warning', 'RevisionFailed', `CappRevision: ${message}`);
      return err;
    }
  }

  /**
   * An Event when the traits in effect change; pod-disruptive ones are named (their pods restart).
   * Not for a new Capp (its pods are new anyway; its `Created` Event says what was made).
   */
  private noteTraits(capp: Capp, traits: AppliedTrait[], log: Logger): void {
    const before = capp.status?.traits ?? [];
    if (sameJson(before, traits) || capp.status?.observedGeneration === undefined) return;
    const changed = traits.filter((t) => !before.some((b) => sameJson(b, t)));
    const removed = before.filter((b) => !traits.some((t) => t.type === b.type));
    const disruptive = [...changed, ...removed].filter((t) => t.podDisruptive).map((t) => t.type);
    const names = (list: AppliedTrait[]): string => list.map((t) => t.type).join(', ');
    const parts = [
      changed.length ? `applied ${names(changed)}` : '',
      removed.length ? `removed ${names(removed)}` : '',
      disruptive.length ? `pod-disruptive: ${disruptive.join(', ')} (pods restart)` : '',
    ].filter(Boolean);
    log.info({ event: 'traits-changed', traits: traits.map((t) => t.type), disruptive }, 'traits changed');
    this.deps.events.record(capp, 'Normal', 'TraitsChanged', parts.join('; '));
  }

  private async render(capp: Capp): Promise<{ desired: DesiredChild[]; traits: AppliedTrait[] }> {
    const withDefaults: Capp = { ...capp, spec: withSpecDefaults(capp.spec) };
    const children = this.renderOwn(withDefaults);
    const autoApplied = autoAppliedTraits(
      this.deps.read.traits(),
      this.deps.read.namespaceLabels(capp.metadata.namespace ?? ''),
    );
    if (!capp.spec.traits?.length && !autoApplied.length) return { desired: children, traits: [] };
    const http = this.deps.traitHttp;
    const result = await applyTraits({
      capp: withDefaults,
      children,
      lookup: (name) => this.deps.read.trait(name),
      autoApplied,
      fetch: http
        ? async (request) => {
            try {
              return await http.fetch(request);
            } catch (err) {
              if (err instanceof TraitHttpRefused)
                throw new TraitError('TraitProcessingFailed', `trait "${request.trait}": ${err.message}`);
              throw err;
            }
          }
        : undefined,
    });
    return { desired: result.children, traits: result.applied };
  }

  private renderOwn(withDefaults: Capp): DesiredChild[] {
    const capp = withDefaults;
    const autoscale = parseAutoscaleDefaults(this.deps.read.configMap(AUTOSCALE_DEFAULTS_CONFIGMAP));
    const dns = parseDnsConfig(this.deps.read.configMap(DNS_CONFIGMAP));
    // The DomainMapping names the certificate's Secret only once cert-manager has issued it.
    const fqdn = withDefaults.spec.routeSpec?.tlsEnabled ? cappDomain(withDefaults, dns) : undefined;
    const tlsSecretReady =
      fqdn !== undefined && this.deps.read.secretExists(capp.metadata.namespace ?? '', tlsSecretName(fqdn));
    return renderChildren(
      withDefaults,
      { autoscale, dns, loggingBackend: this.deps.loggingBackend },
      { tlsSecretReady },
    );
  }

  /** Applies one child when it differs from the cached live object; returns what was observed. */
  private async applyChild(
    capp: Capp,
    child: DesiredChild,
    log: Logger,
    notes: EventNotes,
  ): Promise<{ observed: ObservedChild; transient?: string; rejected?: string }> {
    const hash = hashOf(child);
    const wanted: DesiredChild = {
      ...child,
      metadata: {
        ...child.metadata,
        annotations: { ...(child.metadata.annotations ?? {}), [ANNOTATION_APPLIED_HASH]: hash },
      },
    };
    const live = this.deps.read.child(child, child.metadata.namespace, child.metadata.name);
    if (live && isSubset(wanted, live)) return { observed: { object: live } };

    try {
      const applied = await this.deps.client.apply(wanted);
      this.deps.metrics?.childApplied(child.kind);
      const ref = refOf(child);
      if (!live) {
        log.info({ event: 'child-created', child: ref }, 'child created');
        notes.add('Created', ref);
      } else if (live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] === hash) {
        log.info({ event: 'drift-corrected', child: ref }, 'child changed by hand; restored');
        notes.add('DriftCorrected', ref);
      } else {
        log.info({ event: 'child-updated', child: ref }, 'child updated');
        notes.add('Updated', ref);
      }
      return { observed: { object: applied } };
    } catch (err) {
      const message = errorMessage(err);
      const ref = refOf(child);
      log.warn({ event: 'child-apply-failed', child: ref, err: message }, 'child apply failed');
      this.deps.events.record(capp, 'Warning', 'ApplyFailed', `${ref}: ${message}`);
      return {
        observed: { object: live, error: err instanceof KubeApiError ? err.message : message },
        ...(isPermanent(err) ? { rejected: `${ref}: ${message}` } : { transient: `${ref}: ${message}` }),
      };
    }
  }

  /** Deletes children the Capp no longer wants; returns inventory entries that could not be deleted yet. */
  private async prune(
    capp: Capp,
    desired: DesiredChild[],
    log: Logger,
    notes: EventNotes,
  ): Promise<ManagedResource[]> {
    const wanted = new Set(desired.map((d) => managedKey(toManagedResource(d))));
    const candidates = new Map<string, ManagedResource>();
    for (const m of capp.status?.managedResources ?? []) candidates.set(managedKey(m), m);
    for (const o of this.deps.read.childrenOf(capp.metadata.namespace ?? '', capp.metadata.name ?? '')) {
      const m = toManagedResource(o);
      candidates.set(managedKey(m), m);
    }
    const leftovers: ManagedResource[] = [];
    for (const [key, m] of [...candidates].reverse()) {
      if (wanted.has(key)) continue;
      try {
        const existed = await this.deps.client.delete(m);
        if (existed) {
          this.deps.metrics?.childDeleted(m.kind);
          const ref = refOf({ ...m, metadata: { name: m.name, namespace: m.namespace } });
          log.info({ event: 'child-deleted', child: ref }, 'child no longer wanted; deleted');
          notes.add('Deleted', ref);
        }
      } catch (err) {
        log.warn({ event: 'child-delete-failed', child: key, err: errorMessage(err) }, 'child delete failed');
        leftovers.push(m);
      }
    }
    return leftovers;
  }

  private async finalize(capp: Capp, log: Logger): Promise<void> {
    if (!capp.metadata.finalizers?.includes(CAPP_FINALIZER)) return;
    const notes = new EventNotes();
    const leftovers = await this.prune(capp, [], log, notes);
    notes.flush(capp, this.deps.events);
    if (leftovers.length) {
      throw new ReconcileError(
        'ChildrenTerminating',
        `cannot remove finalizer yet: ${leftovers.length} children not deleted`,
        true,
      );
    }
    await this.deps.client.apply(this.finalizerPatch(capp, false));
    log.info({ event: 'finalized' }, 'children deleted; finalizer removed');
  }

  /**
   * Server-side apply of our finalizer alone: the field manager owns just that entry of the list, so
   * finalizers of others are untouched; applying an empty list releases it.
   */
  private finalizerPatch(capp: Capp, present: boolean): KubeObject {
    return {
      apiVersion: capp.apiVersion,
      kind: capp.kind,
      metadata: {
        name: capp.metadata.name,
        namespace: capp.metadata.namespace,
        finalizers: present ? [CAPP_FINALIZER] : [],
      },
    };
  }

  private failedRenderStatus(capp: Capp, reason: string, message: string): CappStatus {
    const manager = CAPP_CONDITIONS.manage(capp.status?.conditions, this.now());
    for (const c of capp.status?.conditions ?? []) {
      if (c.type === CONDITION_READY) continue;
      if (c.status === 'True') manager.markTrue(c.type, c.reason, c.message);
      else if (c.status === 'False') manager.markFalse(c.type, c.reason, c.message);
      else manager.markUnknown(c.type, c.reason, c.message);
    }
    manager.markFalse(CONDITION_READY, reason, message);
    return {
      ...(capp.status ?? {}),
      observedGeneration: capp.metadata.generation,
      conditions: manager.conditions(),
    };
  }

  private async writeStatus(capp: Capp, status: CappStatus, log: Logger): Promise<void> {
    if (statusEqual(status, capp.status)) return;
    await this.deps.client.apply(
      {
        apiVersion: capp.apiVersion,
        kind: capp.kind,
        metadata: { name: capp.metadata.name, namespace: capp.metadata.namespace },
        status,
      },
      { subresource: 'status' },
    );
    const ready = status.conditions?.find((c) => c.type === CONDITION_READY);
    log.info({ event: 'status-written', ready: ready?.status, reason: ready?.reason }, 'status updated');
  }
}
