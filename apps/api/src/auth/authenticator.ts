import { hash } from 'node:crypto';

import type { Logger } from 'pino';

import { mapConcurrent } from '../common/async';
import { AuthUnavailableError, ForbiddenError, UnauthenticatedError } from '../common/errors';
import { AccessRequest, AuthenticatedUser, ClusterError, KubeGateway } from '../infra/kube/kube.gateway';

/** SubjectAccessReviews in flight at once for one request that checks many namespaces. */
export const REVIEW_CONCURRENCY = 8;

/** The user of explicit dev mode (`AUTH_MODE=none`). */
export const DEV_USER: AuthenticatedUser = { username: 'dev', groups: ['system:authenticated'] };

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expires: Date.now() + this.ttlMs });
  }
}

/**
 * Cluster RBAC decides: a bearer token is checked with TokenReview, each action with a
 * SubjectAccessReview on `capps.rcs.dana.io`. Answers are reused for a few seconds (by a hash of the
 * token, never the token itself).
 */
export class Authenticator {
  private readonly users: TtlCache<AuthenticatedUser | null>;
  private readonly decisions: TtlCache<{ allowed: boolean; reason?: string }>;
  private readonly subjects = new WeakMap<AuthenticatedUser, string>();

  constructor(
    private readonly kube: KubeGateway,
    readonly enabled: boolean,
    cacheSeconds: number,
    private readonly logger: Logger,
  ) {
    this.users = new TtlCache(cacheSeconds * 1000);
    this.decisions = new TtlCache(cacheSeconds * 1000);
  }

  async authenticate(authorization: string | undefined): Promise<AuthenticatedUser> {
    if (!this.enabled) return DEV_USER;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new UnauthenticatedError('missing bearer token: send "Authorization: Bearer <token>"');
    const key = hash('sha256', match[1], 'base64');
    let user = this.users.get(key);
    if (user === undefined) {
      user = (await this.ask(() => this.kube.authenticate(match[1]))) ?? null;
      this.users.set(key, user);
    }
    if (!user) throw new UnauthenticatedError('the bearer token is not valid');
    return user;
  }

  /** Whether the user may; never throws for a plain "no". */
  async allowed(
    user: AuthenticatedUser,
    access: AccessRequest,
  ): Promise<{ allowed: boolean; reason?: string }> {
    if (!this.enabled) return { allowed: true };
    const key = `${this.subject(user)}|${access.verb}|${access.resource ?? 'capps'}|${access.namespace}|${access.name ?? ''}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = await this.ask(() => this.kube.authorize(user, access));
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /**
   * The namespaces, among `namespaces` and in their order, where the user may `verb` capps.
   *
   * One SubjectAccessReview per namespace, {@link REVIEW_CONCURRENCY} in flight at a time (they were
   * sequential: a list across 100 namespaces cost 100 round trips). Not a SelfSubjectRulesReview,
   * although it is one request: only the user can ask it about themselves (the API would have to
   * impersonate them), and Kubernetes documents its answer as possibly incomplete (webhook and other
   * authorizers cannot enumerate rules), so it is not for authorization decisions. The reviews ask
   * exactly what a request in each namespace would ask, so the answer is the same as the
   * per-namespace routes give, and answers are cached alike.
   */
  async allowedNamespaces(user: AuthenticatedUser, verb: string, namespaces: string[]): Promise<string[]> {
    const decisions = await mapConcurrent(namespaces, REVIEW_CONCURRENCY, (namespace) =>
      this.allowed(user, { verb, namespace }),
    );
    return namespaces.filter((_, i) => decisions[i].allowed);
  }

  async authorize(user: AuthenticatedUser, access: AccessRequest): Promise<void> {
    const { allowed, reason } = await this.allowed(user, access);
    if (allowed) return;
    const where = access.namespace ? `in namespace "${access.namespace}"` : 'across all namespaces';
    throw new ForbiddenError(
      `user "${user.username}" cannot ${access.verb} ${access.resource ?? 'capps'}.rcs.dana.io ${where}${reason ? `: ${reason}` : ''}`,
    );
  }

  /** `username|groups` of a user, kept per user object (the cached one is the same each request). */
  private subject(user: AuthenticatedUser): string {
    let subject = this.subjects.get(user);
    if (subject === undefined) {
      subject = `${user.username}|${user.groups.join(',')}`;
      this.subjects.set(user, subject);
    }
    return subject;
  }

  private async ask<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'authentication/authorization check failed');
      if (err instanceof ClusterError)
        throw new AuthUnavailableError('cannot check credentials: the Kubernetes API server did not answer');
      throw err;
    }
  }
}
