// The list across namespaces asks one SubjectAccessReview per namespace, several at a time: the
// answer must be the one the sequential loop gave.
import pino from 'pino';

import { AuthUnavailableError } from '../common/errors';
import { AccessRequest, AuthenticatedUser, ClusterError, KubeGateway } from '../infra/kube/kube.gateway';
import { Authenticator, REVIEW_CONCURRENCY } from './authenticator';

const alice: AuthenticatedUser = { username: 'alice', groups: ['system:authenticated'] };
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** RBAC stand-in: alice may list in every third namespace; answers take a varying time. */
class FakeRbac {
  running = 0;
  peak = 0;
  reviews: AccessRequest[] = [];
  failIn?: string;

  async authorize(_user: AuthenticatedUser, access: AccessRequest): Promise<{ allowed: boolean }> {
    this.reviews.push(access);
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      await delay((access.namespace.length * 7) % 5);
      if (access.namespace === this.failIn)
        throw new ClusterError('subject access review: down', undefined, false);
      return { allowed: Number(access.namespace.slice(3)) % 3 === 0 };
    } finally {
      this.running--;
    }
  }
}

function authenticator(rbac: FakeRbac, cacheSeconds = 0): Authenticator {
  return new Authenticator(rbac as unknown as KubeGateway, true, cacheSeconds, pino({ level: 'silent' }));
}

describe('Authenticator.allowedNamespaces', () => {
  const namespaces = Array.from({ length: 30 }, (_, i) => `ns-${i}`);

  it('answers what one review per namespace, one after the other, answered', async () => {
    const rbac = new FakeRbac();
    const auth = authenticator(rbac);
    const sequential: string[] = [];
    for (const ns of namespaces)
      if ((await auth.allowed(alice, { verb: 'list', namespace: ns })).allowed) sequential.push(ns);

    const parallel = await auth.allowedNamespaces(alice, 'list', namespaces);
    expect(parallel).toEqual(sequential);
    expect(parallel).toEqual(namespaces.filter((_, i) => i % 3 === 0));
  });

  it('asks at most REVIEW_CONCURRENCY reviews at once, one per namespace', async () => {
    const rbac = new FakeRbac();
    await authenticator(rbac).allowedNamespaces(alice, 'list', namespaces);
    expect(rbac.peak).toBe(REVIEW_CONCURRENCY);
    expect(rbac.reviews.map((r) => r.namespace).sort()).toEqual([...namespaces].sort());
    expect(rbac.reviews.every((r) => r.verb === 'list' && !r.name)).toBe(true);
  });

  it('reuses cached answers', async () => {
    const rbac = new FakeRbac();
    const auth = authenticator(rbac, 10);
    await auth.allowedNamespaces(alice, 'list', namespaces);
    await auth.allowedNamespaces(alice, 'list', namespaces);
    expect(rbac.reviews).toHaveLength(namespaces.length);
  });

  it('answers 503 when the cluster cannot review one of the namespaces', async () => {
    const rbac = new FakeRbac();
    rbac.failIn = 'ns-4';
    await expect(authenticator(rbac).allowedNamespaces(alice, 'list', namespaces)).rejects.toBeInstanceOf(
      AuthUnavailableError,
    );
  });
});
