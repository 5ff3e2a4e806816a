import { mapConcurrent, TimeoutError, withTimeout } from './async';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('withTimeout', () => {
  it('answers what the promise answers when it settles in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, 'x')).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error('no')), 1000, 'x')).rejects.toThrow('no');
  });

  it('rejects with a TimeoutError naming what did not answer', async () => {
    const slow = withTimeout(delay(1000), 10, 'redis ping');
    await expect(slow).rejects.toBeInstanceOf(TimeoutError);
    await expect(slow).rejects.toThrow('redis ping: no answer within 10 ms');
  });
});

describe('mapConcurrent', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    const out = await mapConcurrent(items, 8, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await delay(20 - i); // later items finish first
      running--;
      return i * 2;
    });
    expect(out).toEqual(items.map((i) => i * 2));
    expect(peak).toBe(8);
  });

  it('rejects on the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    const run = mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      if (i === 1) throw new Error('boom'); // while 0 is still running
      await delay(10);
      return i;
    });
    await expect(run).rejects.toThrow('boom');
    await delay(50);
    expect(started).toEqual([0, 1]);
  });

  it('answers an empty list without calling anything', async () => {
    await expect(mapConcurrent([], 8, () => Promise.reject(new Error('called')))).resolves.toEqual([]);
  });
});
