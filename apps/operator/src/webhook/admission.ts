import {
  ANNOTATION_LAST_UPDATED_BY,
  Capp,
  CappTrait,
  cappWarnings,
  DEFAULT_SCALE_METRIC,
  DEFAULT_STATE,
  formatWarnings,
  isPlainObject,
  knativeIssues,
  type KnativeSettings,
  sameJson,
  validateCapp,
  ValidationIssue,
} from '@capp/capp-model';
import { validateCappTrait, validateCappTraits } from '@capp/knative-adapter';

/**
 * Admission for Capps (pure: the cluster lookups are injected). kubectl users get the same checks as
 * API users — the one `@capp/capp-model` validation — plus what only the cluster can tell: the log
 * Secret exists, the hostname is not another Capp's. Deletes, status writes and objects being
 * deleted (finalizer removal) are never refused. The schema's warnings (e.g. `tlsEnabled` without a
 * hostname) go back as admission warnings, which kubectl prints.
 */

export interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  subResource?: string;
  namespace?: string;
  name?: string;
  userInfo?: { username?: string; groups?: string[] };
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason: string;
    message: string;
    details?: { causes: { field: string; reason: string; message: string }[] };
  };
  patchType?: 'JSONPatch';
  /** base64 of a JSON Patch (RFC 6902). */
  patch?: string;
  /** Shown to the client (kubectl prints each as `Warning: …`): valid, but probably not what was meant. */
  warnings?: string[];
}

export interface ClusterLookups {
  secretExists(namespace: string, name: string): Promise<boolean>;
  /** The cluster's Knative settings (features, maximum timeout, autoscaler limits). */
  knativeSettings(): KnativeSettings;
  /** Capps (other than the one under review) whose spec.routeSpec.hostname is this one. */
  cappsWithHostname(hostname: string): Array<{ namespace: string; name: string }>;
  /** A CappTrait by name. */
  trait(name: string): CappTrait | undefined;
  /** Capps (not being deleted) whose spec.traits names this CappTrait. */
  cappsUsingTrait(name: string): Array<{ namespace: string; name: string }>;
}

function asCapp(obj: unknown): Capp | undefined {
  return isPlainObject(obj) ? (obj as unknown as Capp) : undefined;
}

function ignored(req: AdmissionRequest): boolean {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return true;
  if (req.subResource) return true; // status (and any other subresource) writes
  return Boolean(asCapp(req.object)?.metadata?.deletionTimestamp);
}

function allow(uid: string): AdmissionResponse {
  return { uid, allowed: true };
}

export function deny(uid: string, issues: ValidationIssue[]): AdmissionResponse {
  const message = issues.map((i) => `${i.path || '<root>'}: ${i.message} (rule ${i.rule})`).join('; ');
  return {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: `the capp is invalid: ${message}`,
      details: { causes: issues.map((i) => ({ field: i.path, reason: i.rule, message: i.message })) },
    },
  };
}

const hostnameOf = (c: Capp | undefined): string | undefined =>
  c?.spec?.routeSpec?.hostname?.replace(/\.$/, '');

/** The Secrets a Capp's log shipping reads, by field path. */
function logSecrets(c: Capp | undefined): Array<{ path: string; name: string }> {
  const log = c?.spec?.logSpec;
  const out: Array<{ path: string; name: string }> = [];
  if (log?.passwordSecret) out.push({ path: 'spec.logSpec.passwordSecret', name: log.passwordSecret });
  if (log?.hecTokenSecret) out.push({ path: 'spec.logSpec.hecTokenSecret', name: log.hecTokenSecret });
  return out;
}

export async function validateAdmission(
  req: AdmissionRequest,
  lookups: ClusterLookups,
): Promise<AdmissionResponse> {
  if (ignored(req)) return allow(req.uid);
  const capp = asCapp(req.object);
  const structural = validateCapp(req.object, { knative: false });
  if (structural.length || !capp)
    return deny(
      req.uid,
      structural.length ? structural : [{ path: '', rule: 'type', message: 'must be an object' }],
    );
  const warnings = formatWarnings(cappWarnings(capp));
  const withWarnings = (res: AdmissionResponse): AdmissionResponse =>
    warnings.length ? { ...res, warnings } : res;

  const old = req.operation === 'UPDATE' ? asCapp(req.oldObject) : undefined;
  // Knative's rules, with the cluster's settings. Ratcheted like a CRD's validation: what the stored
  // Capp already broke (say, from before these rules, or before a feature was turned off) does not
  // block an unrelated update — the finalizer, a label — but is returned as a warning.
  const settings = lookups.knativeSettings();
  const before = new Set((old ? knativeIssues(old, settings) : []).map((i) => `${i.path} ${i.rule}`));
  const issues: ValidationIssue[] = [];
  for (const issue of knativeIssues(capp, settings)) {
    if (!before.has(`${issue.path} ${issue.rule}`)) issues.push(issue);
    else
      warnings.push(
        `${issue.path}: ${issue.message} (rule ${issue.rule}; already so in the stored Capp: Knative refuses its Service until it is fixed)`,
      );
  }
  const namespace = capp.metadata.namespace ?? req.namespace ?? '';
  const name = capp.metadata.name ?? req.name ?? '';
  // Cluster checks only for what this request changes: an unrelated update (a label, the finalizer)
  // must not be refused because a Secret was deleted since.
  const oldSecrets = new Set(logSecrets(old).map((s) => `${s.path}=${s.name}`));
  for (const secret of logSecrets(capp)) {
    if (oldSecrets.has(`${secret.path}=${secret.name}`)) continue;
    if (!(await lookups.secretExists(namespace, secret.name)))
      issues.push({
        path: secret.path,
        rule: 'secretExists',
        message: `Secret "${secret.name}" not found in namespace "${namespace}"`,
      });
  }
  const hostname = hostnameOf(capp);
  if (hostname && hostname !== hostnameOf(old)) {
    const others = lookups
      .cappsWithHostname(hostname)
      .filter((c) => c.namespace !== namespace || c.name !== name);
    if (others.length)
      issues.push({
        path: 'spec.routeSpec.hostname',
        rule: 'uniqueHostname',
        message: `"${hostname}" is already used by capp ${others[0].namespace}/${others[0].name}`,
      });
  }
  // Traits: checked when they change (an unrelated update is not refused for a trait changed since).
  if (capp.spec.traits?.length && !sameJson(capp.spec.traits, old?.spec?.traits))
    issues.push(...validateCappTraits(capp, (n) => lookups.trait(n)));
  return withWarnings(issues.length ? deny(req.uid, issues) : allow(req.uid));
}

/**
 * Admission for CappTraits: a create or update must be a usable trait (its JSON Schema compiles, its
 * templates parse, its kinds exist); a delete is refused while Capps use it, naming them.
 */
export function validateTraitAdmission(req: AdmissionRequest, lookups: ClusterLookups): AdmissionResponse {
  if (req.subResource) return allow(req.uid);
  if (req.operation === 'DELETE') {
    const name =
      req.name ?? (isPlainObject(req.oldObject) ? String((req.oldObject as CappTrait).metadata?.name) : '');
    const users = lookups.cappsUsingTrait(name);
    if (!users.length) return allow(req.uid);
    const list = users.map((u) => `${u.namespace}/${u.name}`);
    const shown = list.length > 20 ? [...list.slice(0, 20), `and ${list.length - 20} more`] : list;
    return {
      uid: req.uid,
      allowed: false,
      status: {
        code: 409,
        reason: 'Conflict',
        message: `CappTrait "${name}" is in use by ${list.length} Capp(s): ${shown.join(', ')}; remove it from their spec.traits first`,
      },
    };
  }
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow(req.uid);
  const issues = validateCappTrait(req.object);
  if (!issues.length) return allow(req.uid);
  const res = deny(req.uid, issues);
  return {
    ...res,
    status: res.status && {
      ...res.status,
      message: res.status.message.replace('the capp is', 'the capptrait is'),
    },
  };
}

interface JsonPatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

const escape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

function sameContent(a: Capp | undefined, b: Capp | undefined): boolean {
  const strip = (c: Capp | undefined): unknown => {
    const annotations = { ...(c?.metadata?.annotations ?? {}) };
    delete annotations[ANNOTATION_LAST_UPDATED_BY];
    return { spec: c?.spec, labels: c?.metadata?.labels ?? {}, annotations };
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/**
 * Defaults `spec.scaleMetric` and `spec.state`, and records who changed the Capp in
 * `rcs.dana.io/last-updated-by` (on create, and on updates that change spec, labels or annotations).
 * A trusted updater (the REST API's ServiceAccount) may name the end user itself.
 */
export function mutateAdmission(
  req: AdmissionRequest,
  trustedUpdaters: ReadonlySet<string> = new Set(),
): AdmissionResponse {
  const capp = asCapp(req.object);
  if (ignored(req) || !capp || !isPlainObject(capp.spec)) return allow(req.uid);
  const ops: JsonPatchOp[] = [];
  if (capp.spec.scaleMetric === undefined)
    ops.push({ op: 'add', path: '/spec/scaleMetric', value: DEFAULT_SCALE_METRIC });
  if (capp.spec.state === undefined) ops.push({ op: 'add', path: '/spec/state', value: DEFAULT_STATE });

  const user = req.userInfo?.username;
  const changed = req.operation === 'CREATE' || !sameContent(capp, asCapp(req.oldObject));
  const annotations = capp.metadata?.annotations;
  const supplied = annotations?.[ANNOTATION_LAST_UPDATED_BY];
  const keepSupplied = supplied !== undefined && user !== undefined && trustedUpdaters.has(user);
  if (user && changed && !keepSupplied && supplied !== user) {
    if (!annotations)
      ops.push({ op: 'add', path: '/metadata/annotations', value: { [ANNOTATION_LAST_UPDATED_BY]: user } });
    else
      ops.push({
        op: supplied === undefined ? 'add' : 'replace',
        path: `/metadata/annotations/${escape(ANNOTATION_LAST_UPDATED_BY)}`,
        value: user,
      });
  }
  if (!ops.length) return allow(req.uid);
  return {
    uid: req.uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(ops)).toString('base64'),
  };
}
