import { CappViews } from './capp-views';
import type { CappRecord, StoredCapp } from './capps.repository';

function record(name: string, image: string): CappRecord {
  return {
    id: `id-${name}`,
    namespace: 'shop',
    name,
    spec: { configurationSpec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
    labels: {},
    annotations: {},
    status: null,
    version: 1,
    syncState: 'Synced',
    syncError: null,
    syncAttempts: 0,
    syncedVersion: 1,
    clusterResourceVersion: '10',
    cappUid: null,
    clusterUid: null,
    updatedBy: 'alice',
    deletedAt: null,
    createdAt: new Date('2026-11-30T00:00:00Z'),
    updatedAt: new Date('2026-11-30T00:00:00Z'),
  } as CappRecord;
}

/** A row as the repository returns it, counting how often it is parsed. */
function row(name: string, rev: string, image = 'nginx'): StoredCapp & { loads: number } {
  const r = { id: `id-${name}`, namespace: 'shop', name, version: 1, rev, loads: 0 } as StoredCapp & {
    loads: number;
  };
  r.load = () => {
    r.loads++;
    return record(name, image);
  };
  return r;
}

describe('CappViews', () => {
  it('parses and serializes a row once per revision', () => {
    const views = new CappViews(10);
    const a = row('web', '100');
    const json = views.json(a);
    expect(JSON.parse(json)).toMatchObject({ kind: 'Capp', metadata: { name: 'web', namespace: 'shop' } });
    const same = row('web', '100');
    expect(views.json(same)).toBe(json);
    expect(same.loads).toBe(0);
    const changed = row('web', '101', 'httpd');
    expect(views.json(changed)).toContain('httpd');
    expect(changed.loads).toBe(1);
    expect([views.hits, views.misses]).toEqual([1, 2]);
  });

  it('keeps at most its capacity, dropping the least recently used', () => {
    const views = new CappViews(2);
    views.json(row('a', '1'));
    views.json(row('b', '1'));
    views.json(row('a', '1')); // a is now the most recent
    views.json(row('c', '1')); // b goes
    expect(views.size).toBe(2);
    const a = row('a', '1');
    const b = row('b', '1');
    views.json(a);
    views.json(b);
    expect([a.loads, b.loads]).toEqual([0, 1]);
  });

  it('keeps nothing with capacity 0', () => {
    const views = new CappViews(0);
    views.json(row('a', '1'));
    const again = row('a', '1');
    views.json(again);
    expect(again.loads).toBe(1);
    expect(views.size).toBe(0);
  });

  it('pages: cached rows as they are, the others read in one call, a row gone meanwhile left out', async () => {
    const views = new CappViews(10);
    views.json(row('a', '1'));
    views.json(row('c', '1'));
    const asked: string[][] = [];
    const items = await views.page(
      [row('a', '1'), row('b', '1'), row('c', '2'), row('gone', '1')],
      async (ids) => {
        asked.push(ids);
        return [row('c', '3', 'httpd'), row('b', '1')]; // c moved on again; gone is gone
      },
    );
    expect(asked).toEqual([['id-b', 'id-c', 'id-gone']]);
    expect(items.map((i) => (JSON.parse(i) as { metadata: { name: string } }).metadata.name)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(items[2]).toContain('httpd');
    const none: string[][] = [];
    await views.page([row('a', '1')], async (ids) => (none.push(ids), []));
    expect(none).toEqual([]);
  });

  it('writes a CappList with its continue token, as JSON', () => {
    const views = new CappViews(10);
    const items = [views.json(row('a', '1')), views.json(row('b', '1'))];
    const list = JSON.parse(CappViews.list(items, 'tok')) as {
      kind: string;
      metadata: { continue?: string };
      items: { metadata: { name: string } }[];
    };
    expect(list.kind).toBe('CappList');
    expect(list.metadata).toEqual({ continue: 'tok' });
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(JSON.parse(CappViews.list([], undefined))).toEqual({
      apiVersion: 'rcs.dana.io/v1alpha1',
      kind: 'CappList',
      metadata: {},
      items: [],
    });
  });
});
