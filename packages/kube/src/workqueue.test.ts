import { ExponentialBackoffRateLimiter } from './rateLimiter';
import { WorkQueue } from './workqueue';

describe('WorkQueue', () => {
  it('hands out keys in order and dedupes keys not yet taken', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.length).toBe(0);
  });

  it('never hands a key to a second worker while the first holds it', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    const first = await queue.get();
    expect(first).toBe('a');
    queue.add('a');
    // 'a' is dirty but processing: nothing to hand out yet.
    expect(queue.length).toBe(0);
    let second: string | undefined;
    const waiting = queue.get().then(key => {
      second = key;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done('a');
    await waiting;
    expect(second).toBe('a');
    expect(queue.inFlight).toBe(1);
  });

  it('collapses many adds during processing into one re-queue', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.add('a');
    queue.add('a');
    queue.done('a');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.length).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue<string>();
    const got = queue.get();
    queue.add('x');
    expect(await got).toBe('x');
    expect(queue.inFlight).toBe(1);
  });

  it('runs concurrent workers on distinct keys only', async () => {
    const queue = new WorkQueue<string>();
    const active = new Set<string>();
    const seen: string[] = [];
    let overlap = false;
    // Resolved when a worker finishes a key and leaves the queue with nothing
    // waiting and nothing in flight: every re-add happens before done(), so
    // from then on no more work can appear.
    let idle!: () => void;
    const drained = new Promise<void>(resolve => {
      idle = resolve;
    });
    const worker = async () => {
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        if (active.has(key)) overlap = true;
        active.add(key);
        seen.push(key);
        await new Promise(r => setTimeout(r, 1));
        // Re-adding while processing must not hand it to another worker.
        if (seen.filter(k => k === key).length < 3) queue.add(key);
        active.delete(key);
        queue.done(key);
        if (queue.length === 0 && queue.inFlight === 0) idle();
      }
    };
    for (const key of ['a', 'b', 'c', 'a', 'b']) queue.add(key);
    const workers = [worker(), worker(), worker(), worker()];
    await drained;
    expect(seen).toHaveLength(9);
    queue.shutDown();
    await Promise.all(workers);
    expect(overlap).toBe(false);
    expect(seen.filter(k => k === 'a')).toHaveLength(3);
    expect(seen.filter(k => k === 'b')).toHaveLength(3);
    expect(seen.filter(k => k === 'c')).toHaveLength(3);
  });

  it('adds a key after a delay, keeping the earliest of several delays', async () => {
    jest.useFakeTimers();
    try {
      const queue = new WorkQueue<string>();
      queue.addAfter('a', 1000);
      queue.addAfter('a', 100);
      queue.addAfter('a', 5000);
      jest.advanceTimersByTime(99);
      expect(queue.length).toBe(0);
      jest.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      jest.advanceTimersByTime(10_000);
      expect(queue.length).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('backs off failures per key and forgets on success', async () => {
    jest.useFakeTimers();
    try {
      const retries: number[] = [];
      const queue = new WorkQueue<string>(
        new ExponentialBackoffRateLimiter<string>(10, 1000),
        { depth: () => {}, retry: () => retries.push(1) },
      );
      queue.addRateLimited('a'); // 10ms
      jest.advanceTimersByTime(10);
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('a');
      queue.done('a');
      queue.addRateLimited('a'); // 20ms
      jest.advanceTimersByTime(19);
      expect(queue.length).toBe(0);
      jest.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      expect(queue.retries('a')).toBe(2);
      queue.forget('a');
      expect(queue.retries('a')).toBe(0);
      expect(retries).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('releases waiting workers on shutdown and ignores later adds', async () => {
    const queue = new WorkQueue<string>();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    queue.addAfter('b', 10);
    expect(queue.length).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('cancels pending delayed adds on shutdown', async () => {
    jest.useFakeTimers();
    try {
      const queue = new WorkQueue<string>();
      queue.addAfter('a', 50);
      queue.shutDown();
      jest.advanceTimersByTime(100);
      expect(queue.length).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports adds, waits, work times, depth and delayed adds as client-go does', async () => {
    const seen = {
      adds: 0,
      retries: 0,
      depths: [] as number[],
      waits: [] as number[],
      works: [] as number[],
    };
    const queue = new WorkQueue<string>(undefined, {
      add: () => seen.adds++,
      retry: () => seen.retries++,
      depth: n => seen.depths.push(n),
      queueDuration: s => seen.waits.push(s),
      workDuration: s => seen.works.push(s),
    });
    queue.add('a');
    queue.add('a'); // already queued: not an add
    queue.add('b');
    await new Promise(r => setTimeout(r, 30));
    const a = await queue.get();
    await new Promise(r => setTimeout(r, 20));
    queue.done(a!);
    expect(seen.adds).toBe(2);
    expect(seen.waits).toHaveLength(1);
    expect(seen.waits[0]).toBeGreaterThanOrEqual(0.025);
    expect(seen.works).toHaveLength(1);
    expect(seen.works[0]).toBeGreaterThanOrEqual(0.015);
    expect(seen.depths).toEqual([1, 2, 1]);
    queue.addAfter('c', 5);
    queue.addRateLimited('d');
    expect(seen.retries).toBe(2);
    queue.shutDown();
  });
});
