import type { KubeObject } from '@capp/capp-model';

import { OwnWrites } from './own-writes';

const obj = (rv: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'a', namespace: 'ns', resourceVersion: rv },
  ...extra,
});

describe('OwnWrites', () => {
  it('recognises the watch event of its own write once, and nothing else', () => {
    const own = new OwnWrites();
    own.wrote('x', obj('2'), '1');
    expect(own.isEcho('x', obj('2'))).toBe(true);
    expect(own.isEcho('x', obj('2'))).toBe(false);
    expect(own.isEcho('x', obj('3'))).toBe(false);
    expect(own.isEcho('y', obj('2'))).toBe(false);
    expect(own.size).toBe(0);
  });

  it('tells a change made by someone else between two of its writes from their echoes', () => {
    const own = new OwnWrites();
    own.wrote('x', obj('2'), '1'); // e.g. the finalizer
    own.wrote('x', obj('4'), '1'); // e.g. the status, after someone else wrote version 3
    expect(own.isEcho('x', obj('2'))).toBe(true);
    expect(own.isEcho('x', obj('3'))).toBe(false);
    expect(own.isEcho('x', obj('4'))).toBe(true);
  });

  it('keeps a later version the cache got before the write answered (a status written meanwhile)', () => {
    const own = new OwnWrites();
    own.wrote('x', obj('2'), '3');
    expect(own.latest('x', obj('3'))).toEqual(obj('3'));
    expect(own.size).toBe(0);
  });

  it('expects no echo when the cache already holds the written version', () => {
    const own = new OwnWrites();
    own.wrote('x', obj('2'), '2');
    expect(own.size).toBe(0);
    expect(own.latest('x', obj('2'))).toEqual(obj('2'));
  });

  it('answers with the written object until the cache catches up', () => {
    const own = new OwnWrites();
    const written = obj('2', { status: { ok: true } });
    own.wrote('x', written, '1');
    expect(own.latest('x', obj('1'))).toBe(written);
    own.wrote('x', obj('3', { status: { ok: false } }), '1');
    expect(own.latest('x', obj('2'))).toEqual(obj('3', { status: { ok: false } }));
    own.isEcho('x', obj('3'));
    const cached = obj('3');
    expect(own.latest('x', cached)).toBe(cached);
  });

  it('covers an object created by the write and not in the cache yet', () => {
    const own = new OwnWrites();
    const created = obj('5');
    own.wrote('x', created, undefined);
    expect(own.latest('x', undefined)).toBe(created);
    expect(own.isEcho('x', obj('5'))).toBe(true);
    expect(own.latest('x', undefined)).toBeUndefined();
  });

  it('prefers the cache once it holds a version it did not write', () => {
    const own = new OwnWrites();
    own.wrote('x', obj('2'), '1');
    const edited = obj('7');
    expect(own.isEcho('x', edited)).toBe(false);
    expect(own.latest('x', edited)).toBe(edited);
  });

  it('forgets a deleted object', () => {
    const own = new OwnWrites();
    own.wrote('x', obj('2'), '1');
    own.forget('x');
    expect(own.isEcho('x', obj('2'))).toBe(false);
    expect(own.latest('x', undefined)).toBeUndefined();
  });

  it('keeps a bounded number of writes per object waiting for their echo', () => {
    const own = new OwnWrites();
    for (let rv = 2; rv <= 12; rv++) own.wrote('x', obj(String(rv)), '1');
    expect(own.isEcho('x', obj('2'))).toBe(false);
    expect(own.isEcho('x', obj('12'))).toBe(true);
  });
});
