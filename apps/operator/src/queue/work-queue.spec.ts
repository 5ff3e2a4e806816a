import { WorkQueue } from './work-queue';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('collapses duplicate adds of a waiting key into one run', async () => {
    const runs: string[] = [];
    const gate = deferred();
    const q = new WorkQueue(
      async (k) => {
        runs.push(k);
        if (k === 'block') await gate.promise;
      },
      { concurrency: 1 },
    );
    q.add('block');
    q.add('a');
    q.add('a');
    q.add('a');
    expect(q.depth).toBe(1);
    gate.resolve();
    await q.whenIdle();
    expect(runs).toEqual(['block', 'a']);
  });

  it('never runs one key twice at the same time, and runs it again when it changed meanwhile', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const gate = deferred();
    const q = new WorkQueue(
      async () => {
        concurrent++;
        runs++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        if (runs === 1) await gate.promise;
        concurrent--;
      },
      { concurrency: 4 },
    );
    q.add('k');
    await tick();
    q.add('k');
    q.add('k');
    gate.resolve();
    await q.whenIdle();
    expect(maxConcurrent).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs at most `concurrency` keys at once', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const q = new WorkQueue(
      async () => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await tick(5);
        concurrent--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.whenIdle();
    expect(maxConcurrent).toBe(3);
  });

  it('retries a failing key with exponential backoff and resets it after a success', async () => {
    const times: number[] = [];
    const errors: number[] = [];
    const q = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error('boom');
      },
      { concurrency: 1, baseBackoffMs: 20 },
      (_k, _e, attempt) => errors.push(attempt),
    );
    q.add('k');
    while (times.length < 4) await tick(5);
    await q.whenIdle();
    expect(errors).toEqual([1, 2, 3]);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(q.backoffFor(1)).toBe(20);
  });

  it('caps the backoff', () => {
    const q = new WorkQueue(async () => undefined, {
      concurrency: 1,
      baseBackoffMs: 100,
      maxBackoffMs: 1000,
    });
    expect(q.backoffFor(20)).toBe(1000);
  });

  it('waits for in-flight work on shutDown and takes no new work after it', async () => {
    const gate = deferred();
    let finished = false;
    const runs: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        runs.push(k);
        await gate.promise;
        finished = true;
      },
      { concurrency: 1 },
    );
    q.add('a');
    q.add('b');
    await tick();
    const done = q.shutDown();
    q.add('c');
    setTimeout(() => gate.resolve(), 10);
    await done;
    expect(finished).toBe(true);
    expect(runs).toEqual(['a']);
  });

  it('does not retry a terminal failure, and the key runs again on its next add', async () => {
    let runs = 0;
    const seen: Array<[number, boolean]> = [];
    const q = new WorkQueue(
      async () => {
        runs++;
        throw new Error(runs === 1 ? 'terminal' : 'transient');
      },
      { concurrency: 1, baseBackoffMs: 5, retryable: (err) => (err as Error).message !== 'terminal' },
      (_k, _e, attempt, retrying) => seen.push([attempt, retrying]),
    );
    q.add('k');
    await tick(40);
    expect(runs).toBe(1);
    expect(seen).toEqual([[1, false]]);
    q.add('k');
    while (runs < 3) await tick(5);
    await q.shutDown();
    // the terminal failure did not count towards the backoff of the next ones
    expect(seen.slice(0, 3)).toEqual([
      [1, false],
      [1, true],
      [2, true],
    ]);
  });
});
