import {
  AppliedTrait,
  Capp,
  CAPP_FINALIZER,
  CappStatus,
  CONDITION_READY,
  KubeObject,
  ManagedResource,
  RESOURCE_POLICY_CONFIGMAP,
  type ResourcePolicy,
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
  flowName,
  LOGGING_FLOW,
  type LoggingBackend,
  ObservedChild,
  parseAutoscaleDefaults,
  parseDnsConfig,
  renderChildren,
  RenderError,
  SYSLOG_NG_FLOW,
  SYSLOG_NG_OUTPUT,
  tlsSecretName,
  toManagedResource,
  TraitError,
  type TraitHttpRequest,
} from '@capp/knative-adapter';
import { isPermanent, KubeApiError } from '@capp/kube';
import type { Logger } from 'pino';

import { ANNOTATION_APPLIED_HASH, hashOf, isSubset } from './drift';
import { errorMessage, ReconcileError } from './errors';
import { finalizerPatch } from './finalizer';
import {
  ANNOTATION_APPLIED_GENERATION,
  ANNOTATION_ORPHANED_FROM,
  foreignFieldRemovals,
  isCurrentlyOurs,
  isOurs,
  managersOf,
  orphanedFrom,
  orphanPatch,
  V035_FINALIZER,
} from './ownership';
import { type EffectivePolicy, parsePlatformPolicy, resolvePolicy, withLiveValues } from './policy';
import type { ClientPort, EventsPort, ReadPort, ReconcileMetrics } from './ports';
import { planRevisions } from './revisions';
import { applyCappStatus } from './status-write';
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
  /** The server-side apply field manager (whose fields are ours when taking a child over). */
  fieldManager?: string;
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
  Adopted: "taken over (it existed and was not this Capp's)",
  Orphaned: 'left in place, no longer managed (garbage collection: never)',
  Migrated: 'taken over from container-app-operator v0.3.5',
};

/** Why a child was not applied: its condition's reason. */
const REASON_TAKE_OVER_REFUSED = 'TakeOverRefused';

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
  /** The platform policy last parsed, and the ConfigMap text it came from. */
  private platformPolicy?: { text: string | undefined; policy: ResourcePolicy | undefined };

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
      await this.deps.client.apply(finalizerPatch(capp, true));
      log.info({ event: 'finalizer-added' }, 'finalizer added');
    }
    // Reported after the children and status, which a failure here must not hold up.
    const revisionFailure = await this.keepRevisions(capp, log);

    let desired: DesiredChild[];
    let policy: EffectivePolicy;
    let traits: AppliedTrait[];
    try {
      ({ desired, traits } = await this.render(capp));
      policy = this.policyFor(capp);
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
      const result = await this.applyChild(capp, child, policy, log, notes);
      observed.set(childKey(child), result.observed);
      if (result.transient) transient.push(result.transient);
      if (result.rejected) rejected.push(result.rejected);
    }

    // Garbage is collected only once the new state is in place: when a child failed to apply, what it
    // would replace (a working DomainMapping, an old Flow) stays, and the inventory keeps it.
    const waiting = transient.length + rejected.length > 0;
    const leftovers = waiting
      ? this.unwanted(capp, desired)
      : await this.prune(capp, desired, policy, log, notes, false);
    if (!waiting && policy.takeOver === 'adopt' && capp.metadata.finalizers?.includes(V035_FINALIZER))
      await this.completeMigration(capp, log, notes);
    notes.flush(capp, this.deps.events);

    const status = computeStatus({ capp, desired, observed, previous: capp.status, now: this.now() });
    status.managedResources = [
      ...(status.managedResources ?? []).map((m) => withAppliedState(m, observed)),
      ...leftovers,
    ];
    if (waiting && leftovers.length > 0) noteWaitingGarbage(status, leftovers);
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

  /**
   * Applies one child when it differs from the live object, as its resource policy says: a child that
   * exists and is not this Capp's is taken over or refused (`takeOver`); apply-once paths keep their
   * live values, a whole apply-once child is applied once per Capp generation; with `stateKeep: false`
   * a hand edit stays until the render changes. Returns what was observed.
   */
  private async applyChild(
    capp: Capp,
    child: DesiredChild,
    policy: EffectivePolicy,
    log: Logger,
    notes: EventNotes,
  ): Promise<{ observed: ObservedChild; transient?: string; rejected?: string }> {
    const ref = refOf(child);
    const target = { kind: child.kind, name: child.metadata.name };
    const cached = this.deps.read.child(child, child.metadata.namespace, child.metadata.name);
    let live = cached && isCurrentlyOurs(cached, capp) ? cached : undefined;
    let takeOver: 'adopt' | 'readopt' | undefined;
    let existing: KubeObject | undefined;
    if (!live) {
      // Not in the caches (they hold only what this operator labels as its own), or the cache still
      // shows it as a previous Capp's of the same name (an orphan whose relabelling is not seen yet):
      // what is it now?
      existing = await this.getChild(child);
      if (existing && orphanedFrom(existing, capp)) takeOver = 'readopt';
      else if (existing && isOurs(existing, capp)) live = existing;
      else if (existing && policy.takeOver === 'adopt') takeOver = 'adopt';
      else if (existing) {
        const managers = managersOf(existing).join(', ') || 'no field manager';
        const message = `${ref} exists and is not this Capp's (managed by ${managers}): left untouched; set spec.resourcePolicy.takeOver to adopt to take it over`;
        log.warn({ event: 'take-over-refused', child: ref, managers }, 'child exists and is not ours');
        this.deps.events.record(capp, 'Warning', REASON_TAKE_OVER_REFUSED, message);
        return { observed: { error: message, reason: REASON_TAKE_OVER_REFUSED }, rejected: message };
      }
    }

    const once = policy.applyOnce(target);
    const generation = String(capp.metadata.generation ?? 0);
    if (live && once === 'whole' && live.metadata.annotations?.[ANNOTATION_APPLIED_GENERATION] === generation)
      return { observed: { object: live } };
    const hash = hashOf(child);
    const rendered = live && Array.isArray(once) ? withLiveValues(child, live, once) : child;
    const wanted: DesiredChild = {
      ...rendered,
      metadata: {
        ...rendered.metadata,
        annotations: { ...(rendered.metadata.annotations ?? {}), [ANNOTATION_APPLIED_HASH]: hash },
      },
    };
    if (live && !takeOver && isSubset(wanted, live)) return { observed: { object: live } };
    const drifted = live !== undefined && live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] === hash;
    if (drifted && !policy.stateKeep) return { observed: { object: live } };
    const annotated: DesiredChild = {
      ...wanted,
      metadata: {
        ...wanted.metadata,
        annotations: { ...wanted.metadata.annotations, [ANNOTATION_APPLIED_GENERATION]: generation },
      },
    };

    try {
      let applied = await this.deps.client.apply(annotated);
      this.deps.metrics?.childApplied(child.kind);
      if (takeOver)
        applied = await this.afterTakeOver(capp, child, existing, annotated, applied, takeOver, log, notes);
      else if (!live) {
        log.info({ event: 'child-created', child: ref }, 'child created');
        notes.add('Created', ref);
      } else if (drifted) {
        log.info({ event: 'drift-corrected', child: ref }, 'child changed by hand; restored');
        notes.add('DriftCorrected', ref);
      } else {
        log.info({ event: 'child-updated', child: ref }, 'child updated');
        notes.add('Updated', ref);
      }
      return { observed: { object: applied } };
    } catch (err) {
      const message = errorMessage(err);
      log.warn({ event: 'child-apply-failed', child: ref, err: message }, 'child apply failed');
      this.deps.events.record(capp, 'Warning', 'ApplyFailed', `${ref}: ${message}`);
      return {
        observed: { object: live, error: err instanceof KubeApiError ? err.message : message },
        ...(isPermanent(err) ? { rejected: `${ref}: ${message}` } : { transient: `${ref}: ${message}` }),
      };
    }
  }

  /**
   * The Capp's resource policy over the platform's. The platform's ConfigMap is parsed (YAML and the
   * schema) once per content, not once per reconcile; a broken one throws a ConfigError each time.
   */
  private policyFor(capp: Capp): EffectivePolicy {
    const cm = this.deps.read.configMap(RESOURCE_POLICY_CONFIGMAP);
    const text = cm?.data?.['policy'];
    if (this.platformPolicy?.text !== text || !this.platformPolicy)
      this.platformPolicy = { text, policy: parsePlatformPolicy(cm) };
    return resolvePolicy(capp.spec.resourcePolicy, this.platformPolicy.policy);
  }

  private getChild(child: DesiredChild): Promise<KubeObject | undefined> {
    return this.deps.client.get({
      apiVersion: child.apiVersion,
      kind: child.kind,
      namespace: child.metadata.namespace,
      name: child.metadata.name,
    });
  }

  /**
   * After the forced apply that took a child over: a re-adopted orphan loses its orphan note; a child
   * of another manager (container-app-operator v0.3.5, say) loses the spec fields only that manager
   * set, which applying never removes — no delete, no restart beyond what the render changes.
   */
  private async afterTakeOver(
    capp: Capp,
    child: DesiredChild,
    existing: KubeObject | undefined,
    wanted: KubeObject,
    applied: KubeObject,
    how: 'adopt' | 'readopt',
    log: Logger,
    notes: EventNotes,
  ): Promise<KubeObject> {
    const ref = refOf(child);
    const at = {
      apiVersion: child.apiVersion,
      kind: child.kind,
      namespace: child.metadata.namespace,
      name: child.metadata.name,
    };
    if (how === 'readopt') {
      const readopted = await this.deps.client.patch(
        at,
        { metadata: { annotations: { [ANNOTATION_ORPHANED_FROM]: null } } },
        'merge',
      );
      log.info({ event: 'child-readopted', child: ref }, 'orphaned child adopted again');
      notes.add('Adopted', ref);
      return readopted;
    }
    const removals = existing
      ? foreignFieldRemovals(existing, wanted, this.deps.fieldManager ?? 'capp-operator')
      : [];
    let result = applied;
    if (removals.length > 0) {
      try {
        result = await this.deps.client.patch(at, removals, 'json');
      } catch (err) {
        log.warn(
          { event: 'take-over-cleanup-failed', child: ref, err: errorMessage(err) },
          "could not remove the previous manager's fields",
        );
      }
    }
    const migrated = capp.metadata.finalizers?.includes(V035_FINALIZER);
    log.info(
      { event: 'child-adopted', child: ref, removedFields: removals.length, migrated },
      'child taken over',
    );
    notes.add(migrated ? 'Migrated' : 'Adopted', ref);
    return result;
  }

  /**
   * The end of a migration from container-app-operator v0.3.5, once every child applied: its
   * SyslogNGFlow/SyslogNGOutput (named after the Capp) go when this operator writes a Flow/Output
   * instead, and its finalizer is replaced by ours (which is in place since the start of the reconcile).
   */
  private async completeMigration(capp: Capp, log: Logger, notes: EventNotes): Promise<void> {
    const namespace = capp.metadata.namespace ?? '';
    const name = capp.metadata.name;
    const ourFlow = this.deps.read.child(LOGGING_FLOW, namespace, flowName(name));
    if (capp.spec.logSpec && ourFlow) {
      for (const kind of [SYSLOG_NG_FLOW, SYSLOG_NG_OUTPUT]) {
        const ref = { apiVersion: kind.apiVersion, kind: kind.kind, namespace, name };
        const old = await this.deps.client.get(ref).catch(() => undefined);
        if (!old || isOurs(old, capp) || old.metadata.labels?.['rcs.dana.io/parent-capp'] !== name) continue;
        await this.deps.client.delete(ref);
        log.info(
          { event: 'v035-logging-replaced', child: refOf(old) },
          "container-app-operator v0.3.5's logging child deleted",
        );
        notes.add('Deleted', refOf(old));
      }
    }
    const index = capp.metadata.finalizers?.indexOf(V035_FINALIZER) ?? -1;
    if (index < 0) return;
    await this.deps.client.patch(
      { apiVersion: capp.apiVersion, kind: capp.kind, namespace, name },
      [
        { op: 'test', path: `/metadata/finalizers/${index}`, value: V035_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
      ],
      'json',
    );
    log.info({ event: 'v035-finalizer-replaced' }, "container-app-operator v0.3.5's finalizer removed");
  }

  /** The inventory's children the render no longer has (this operator's, by inventory or by label). */
  private candidates(capp: Capp, desired: DesiredChild[]): ManagedResource[] {
    const wanted = new Set(desired.map((d) => managedKey(toManagedResource(d))));
    const candidates = new Map<string, ManagedResource>();
    for (const m of capp.status?.managedResources ?? []) candidates.set(managedKey(m), m);
    for (const o of this.deps.read.childrenOf(capp.metadata.namespace ?? '', capp.metadata.name ?? '')) {
      const m = toManagedResource(o);
      candidates.set(managedKey(m), { ...(candidates.get(managedKey(m)) ?? {}), ...m });
    }
    return [...candidates].filter(([key]) => !wanted.has(key)).map(([, m]) => m);
  }

  /** What a deferred garbage collection keeps in the inventory, each with its strategy. */
  private unwanted(capp: Capp, desired: DesiredChild[]): ManagedResource[] {
    return this.candidates(capp, desired).map(entryOf);
  }

  /**
   * Garbage collection by strategy: `onUpdate` children the render dropped are deleted; `onCappDelete`
   * and `never` ones stay in the inventory while the Capp exists. When the Capp goes (`finalizing`),
   * every child is deleted but the `never` ones, which are orphaned. Returns the inventory entries
   * still to keep (with their strategy) and those that could not be deleted yet.
   */
  private async prune(
    capp: Capp,
    desired: DesiredChild[],
    policy: EffectivePolicy,
    log: Logger,
    notes: EventNotes,
    finalizing: boolean,
  ): Promise<ManagedResource[]> {
    const leftovers: ManagedResource[] = [];
    for (const m of this.candidates(capp, desired).reverse()) {
      const entry = entryOf(m);
      const strategy = policy.gc({ kind: m.kind, name: m.name });
      const ref = refOf({ ...m, metadata: { name: m.name, namespace: m.namespace } });
      if (!finalizing && strategy !== 'onUpdate') {
        leftovers.push({ ...entry, strategy });
        continue;
      }
      try {
        if (finalizing && strategy === 'never') {
          const live = this.deps.read.child(m, m.namespace, m.name);
          if (live) {
            await this.deps.client.patch(m, orphanPatch(live, capp), 'merge');
            log.info(
              { event: 'child-orphaned', child: ref },
              'child left in place (garbage collection: never)',
            );
            notes.add('Orphaned', ref);
          }
          continue;
        }
        const existed = await this.deps.client.delete(m);
        if (existed) {
          this.deps.metrics?.childDeleted(m.kind);
          log.info({ event: 'child-deleted', child: ref }, 'child no longer wanted; deleted');
          notes.add('Deleted', ref);
        }
      } catch (err) {
        log.warn({ event: 'child-delete-failed', child: ref, err: errorMessage(err) }, 'child delete failed');
        leftovers.push(entry);
      }
    }
    return leftovers;
  }

  private async finalize(capp: Capp, log: Logger): Promise<void> {
    if (!capp.metadata.finalizers?.includes(CAPP_FINALIZER)) return;
    const notes = new EventNotes();
    let policy: EffectivePolicy;
    try {
      policy = this.policyFor(capp);
    } catch {
      // A broken platform ConfigMap must not keep a Capp from going: its own rules alone decide.
      policy = resolvePolicy(capp.spec.resourcePolicy, undefined);
    }
    const leftovers = await this.prune(capp, [], policy, log, notes, true);
    notes.flush(capp, this.deps.events);
    if (leftovers.length) {
      throw new ReconcileError(
        'ChildrenTerminating',
        `cannot remove finalizer yet: ${leftovers.length} children not deleted`,
        true,
      );
    }
    await this.deps.client.apply(finalizerPatch(capp, false));
    log.info({ event: 'finalized' }, 'children deleted; finalizer removed');
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
    if (!(await applyCappStatus(this.deps.client, capp, status))) return;
    const ready = status.conditions?.find((c) => c.type === CONDITION_READY);
    log.info({ event: 'status-written', ready: ready?.status, reason: ready?.reason }, 'status updated');
  }
}

/** An inventory entry's identity alone (what it was applied with and its strategy are set anew). */
function entryOf(m: ManagedResource): ManagedResource {
  return {
    apiVersion: m.apiVersion,
    kind: m.kind,
    ...(m.namespace ? { namespace: m.namespace } : {}),
    name: m.name,
  };
}

/** The inventory entry of an applied child, with the hash and generation it was applied with. */
function withAppliedState(m: ManagedResource, observed: ReadonlyMap<string, ObservedChild>): ManagedResource {
  const live = [...observed.values()].find(
    (o) =>
      o.object?.kind === m.kind &&
      o.object.metadata.name === m.name &&
      (o.object.metadata.namespace ?? undefined) === (m.namespace ?? undefined),
  )?.object;
  const hash = live?.metadata.annotations?.[ANNOTATION_APPLIED_HASH];
  const generation = Number(live?.metadata.annotations?.[ANNOTATION_APPLIED_GENERATION]);
  return {
    ...m,
    ...(hash ? { hash } : {}),
    ...(Number.isInteger(generation) && generation > 0 ? { generation } : {}),
  };
}

/** Says on the Ready condition what garbage collection keeps until every child applies. */
function noteWaitingGarbage(status: CappStatus, kept: readonly ManagedResource[]): void {
  const ready = status.conditions?.find((c) => c.type === CONDITION_READY);
  if (!ready) return;
  const refs = kept.map((m) => `${m.kind}/${m.name}`).join(', ');
  ready.message = `${ready.message}; garbage collection waits until every child applies: keeping ${refs}`;
}
