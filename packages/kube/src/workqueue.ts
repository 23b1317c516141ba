/**
 * A work queue in the manner of client-go's workqueue: a key added many
 * times is queued once (`dirty`), a key being worked on is never handed to a
 * second worker (`processing`); if it is added meanwhile, it is queued again
 * when the first worker calls `done`. Delayed adds (`addAfter`) and
 * rate-limited adds (`addRateLimited`) go through timers.
 */
import { RateLimiter, ExponentialBackoffRateLimiter } from './rateLimiter';

/** What a queue reports, as client-go's workqueue metrics provider hears it. */
export interface WorkQueueMetrics {
  depth(n: number): void;
  /** An add with a delay (a backoff after a failure, or a requeue after). */
  retry(): void;
  /** A key became queued (not one already queued). */
  add?(): void;
  /** Seconds a key waited from its add until a worker took it. */
  queueDuration?(seconds: number): void;
  /** Seconds a worker held a key, from taking it to `done`. */
  workDuration?(seconds: number): void;
}

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  /** When each dirty key was added, and when each key in hand was taken (ms). */
  private readonly addedAt = new Map<K, number>();
  private readonly takenAt = new Map<K, number>();
  private readonly waiting = new Map<
    K,
    { at: number; timer: NodeJS.Timeout }
  >();
  private readonly getters: Array<(key: K | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    readonly rateLimiter: RateLimiter<K> = new ExponentialBackoffRateLimiter<K>(),
    private readonly metrics?: WorkQueueMetrics,
  ) {}

  /** Queues the key unless it is already queued; defers it while it is processed. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.metrics) {
      this.metrics.add?.();
      this.addedAt.set(key, performance.now());
    }
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds the key after a delay; an earlier pending delay for it wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    // As client-go counts retries: every add with a delay.
    this.metrics?.retry();
    const at = Date.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.waiting.set(key, { at, timer });
  }

  /** Adds the key after its backoff: call after a failed reconcile. */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets the key's backoff: call after a successful reconcile. */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  retries(key: K): number {
    return this.rateLimiter.retries(key);
  }

  /** The next key, or undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    // After shutdown no new work starts; keys in flight finish on their own.
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.length > 0) return Promise.resolve(this.take());
    return new Promise(resolve => this.getters.push(resolve));
  }

  /** Marks the key finished; re-queues it if it was added while processed. */
  done(key: K): void {
    this.processing.delete(key);
    const taken = this.takenAt.get(key);
    if (taken !== undefined) {
      this.takenAt.delete(key);
      this.metrics?.workDuration?.((performance.now() - taken) / 1000);
    }
    if (this.dirty.has(key)) this.push(key);
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Keys being worked on right now. */
  get inFlight(): number {
    return this.processing.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops handing out keys; waiting getters receive undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.taken(key);
      getter(key);
      return;
    }
    this.queue.push(key);
    this.metrics?.depth(this.length);
  }

  private take(): K {
    const key = this.queue[this.head] as K;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    this.taken(key);
    this.metrics?.depth(this.length);
    return key;
  }

  private taken(key: K): void {
    const added = this.addedAt.get(key);
    if (added === undefined) return;
    this.addedAt.delete(key);
    const now = performance.now();
    this.metrics?.queueDuration?.((now - added) / 1000);
    this.takenAt.set(key, now);
  }
}
