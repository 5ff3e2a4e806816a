import type { KubeObject } from '@capp/capp-model';

import { GoneError, NotFoundError } from './errors';
import { Informer } from './informer';
import { CONFIGMAP_TYPE } from './resources';
import { KubeRest, WatchEvent } from './rest';

type Obj = KubeObject;
const obj = (name: string, rv: string): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/** A scripted API server: each list answers the next snapshot; each watch plays the next script. */
class ScriptedRest {
  /** A snapshot, or `404` for "the kind is not served". */
  lists: Array<Obj[] | 404> = [];
  watches: Array<(emit: (e: WatchEvent<Obj>) => void) => Promise<void>> = [];
  listCalls = 0;
  watchVersions: string[] = [];

  async request<T>(): Promise<T> {
    const items = this.lists[Math.min(this.listCalls, this.lists.length - 1)];
    this.listCalls++;
    if (items === 404)
      throw new NotFoundError(
        404,
        'NotFound',
        'the server could not find the requested resource',
        'GET',
        '/',
      );
    return { metadata: { resourceVersion: `list-${this.listCalls}` }, items } as T;
  }

  async watch(
    _p: string,
    query: Record<string, unknown>,
    onEvent: (e: WatchEvent<Obj>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watchVersions.push(String(query['resourceVersion']));
    const script = this.watches.shift();
    if (script) return script(onEvent);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}

describe('Informer', () => {
  it('re-lists after 410 Gone and reports what changed meanwhile as adds, updates and deletes', async () => {
    const rest = new ScriptedRest();
    rest.lists = [
      [obj('a', '1'), obj('b', '1')],
      [obj('a', '5'), obj('c', '5')],
    ];
    rest.watches = [
      async (emit) => {
        emit({ type: 'MODIFIED', object: obj('a', '2') });
        throw new GoneError(410, 'Expired', 'too old resource version', 'WATCH', '/');
      },
    ];
    const seen: string[] = [];
    const informer = new Informer(rest as unknown as KubeRest, CONFIGMAP_TYPE, {
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (o) => seen.push(`update ${o.metadata.name}@${o.metadata.resourceVersion}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    await informer.waitForSync();
    for (let i = 0; i < 50 && rest.listCalls < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    expect(seen).toEqual(['add a', 'add b', 'update a@2', 'update a@5', 'add c', 'delete b']);
    expect(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(rest.watchVersions).toEqual(['list-1', 'list-2']);
  });

  it('lists in pages of pageSize, following continue tokens, and watches from the snapshot', async () => {
    const queries: Array<Record<string, unknown>> = [];
    const pages: Record<string, { items: Obj[]; next?: string }> = {
      '': { items: [obj('a', '1'), obj('b', '1')], next: 'p2' },
      p2: { items: [obj('c', '1'), obj('d', '1')], next: 'p3' },
      p3: { items: [obj('e', '1')] },
    };
    const watched: string[] = [];
    const rest = {
      async request(_m: string, _p: string, opts: { query: Record<string, unknown> }) {
        queries.push(opts.query);
        const page = pages[String(opts.query['continue'] ?? '')];
        return {
          metadata: { resourceVersion: '40', ...(page.next ? { continue: page.next } : {}) },
          items: page.items,
        };
      },
      async watch(_p: string, query: Record<string, unknown>, _e: unknown, signal: AbortSignal) {
        watched.push(String(query['resourceVersion']));
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      },
    };
    const informer = new Informer(rest as unknown as KubeRest, CONFIGMAP_TYPE, {}, { pageSize: 2 });
    informer.start();
    await informer.waitForSync();
    for (let i = 0; i < 50 && !watched.length; i++) await new Promise((r) => setTimeout(r, 10));
    await informer.stop();
    expect(queries.map((q) => [q['limit'], q['continue']])).toEqual([
      [2, undefined],
      [2, 'p2'],
      [2, 'p3'],
    ]);
    expect(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(watched).toEqual(['40']);
  });

  it('resumes a watch the server closed from the last resourceVersion it saw, without listing again', async () => {
    const rest = new ScriptedRest();
    rest.lists = [[obj('a', '1')]];
    rest.watches = [
      async (emit) => {
        await new Promise((r) => setTimeout(r, 1100)); // a watch that lived its time
        emit({ type: 'ADDED', object: obj('b', '7') });
      },
    ];
    const informer = new Informer(rest as unknown as KubeRest, CONFIGMAP_TYPE, {});
    informer.start();
    for (let i = 0; i < 100 && rest.watchVersions.length < 2; i++)
      await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    expect(rest.listCalls).toBe(1);
    expect(rest.watchVersions).toEqual(['list-1', '7']);
  });

  it('caches and hands to its handlers only what the transform keeps, from lists and watches alike', async () => {
    const rest = new ScriptedRest();
    const annotated = (name: string, rv: string): Obj => ({
      ...obj(name, rv),
      metadata: { ...obj(name, rv).metadata, annotations: { secret: 'data' } },
    });
    rest.lists = [[annotated('a', '1')]];
    rest.watches = [
      async (emit) => {
        emit({ type: 'ADDED', object: annotated('b', '2') });
        emit({ type: 'DELETED', object: annotated('c', '3') });
      },
    ];
    const handed: unknown[] = [];
    const informer = new Informer(
      rest as unknown as KubeRest,
      CONFIGMAP_TYPE,
      { onAdd: (o) => handed.push(o), onDelete: (o) => handed.push(o) },
      {
        transform: (o) => ({
          apiVersion: o.apiVersion,
          kind: o.kind,
          metadata: { name: o.metadata.name, namespace: o.metadata.namespace },
        }),
      },
    );
    informer.start();
    await informer.waitForSync();
    for (let i = 0; i < 50 && handed.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    expect(JSON.stringify([handed, informer.list()])).not.toContain('annotations');
    expect(handed.map((o) => (o as Obj).metadata.name)).toEqual(['a', 'b', 'c']);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('counts a kind that is not served (no CRD) as synced and empty, says so once, and picks it up once it is', async () => {
    const rest = new ScriptedRest();
    rest.lists = [404, 404, 404, [obj('a', '3')]];
    const seen: string[] = [];
    const errors: unknown[] = [];
    const informer = new Informer(
      rest as unknown as KubeRest,
      CONFIGMAP_TYPE,
      { onAdd: (o) => seen.push(`add ${o.metadata.name}`) },
      {
        optional: true,
        absentRetryMs: 10,
        onAvailability: (served) => seen.push(served ? 'served' : 'absent'),
        onError: (err) => errors.push(err),
      },
    );
    informer.start();
    await informer.waitForSync();
    expect(informer.isServed).toBe(false);
    expect(informer.list()).toEqual([]);
    for (let i = 0; i < 100 && rest.listCalls < 4; i++) await new Promise((r) => setTimeout(r, 10));
    await informer.stop();
    expect(seen).toEqual(['absent', 'served', 'add a']);
    expect(errors).toEqual([]);
    expect(informer.isServed).toBe(true);
  });

  it('keeps retrying a 404 list as an error, unsynced, when the kind is not optional', async () => {
    const rest = new ScriptedRest();
    rest.lists = [404];
    const errors: unknown[] = [];
    const informer = new Informer(
      rest as unknown as KubeRest,
      CONFIGMAP_TYPE,
      {},
      {
        retryBaseMs: 5,
        onError: (err) => errors.push(err),
      },
    );
    informer.start();
    for (let i = 0; i < 100 && rest.listCalls < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await informer.stop();
    expect(informer.hasSynced).toBe(false);
    expect(errors[0]).toBeInstanceOf(NotFoundError);
  });
});
