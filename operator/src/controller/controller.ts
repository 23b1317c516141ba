/**
 * A controller: event handlers turn changes into keys on a work queue, and a
 * bounded number of workers reconcile keys, as controller-runtime's
 * controller does. A failed reconcile is retried with per-key exponential
 * backoff; a reconcile may ask to run again after a delay.
 */
import {
  KubeObject,
  Informer,
  Logger,
  noopLogger,
  ExponentialBackoffRateLimiter,
  WorkQueue,
} from '@paved/kube';
import { OperatorMetrics } from './metrics';

export interface ReconcileResult {
  /** Run again after this long even if nothing changes. */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: string): Promise<ReconcileResult | void>;
}

/** Update predicate: the spec changed or deletion began (not a status write). */
export function specOrDeletionChanged(
  oldObject: KubeObject,
  newObject: KubeObject,
): boolean {
  return (
    oldObject.metadata.generation !== newObject.metadata.generation ||
    oldObject.metadata.deletionTimestamp !==
      newObject.metadata.deletionTimestamp
  );
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  concurrency?: number;
  metrics?: OperatorMetrics;
  logger?: Logger;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly reconciler: Reconciler;
  private readonly concurrency: number;
  private readonly metrics?: OperatorMetrics;
  private readonly logger: Logger;
  private workers: Promise<void>[] = [];
  private readonly reconciledListeners = new Set<
    (key: string, started: number) => void
  >();
  /** Reconciles started so far; each reconcile's number is its place in that count. */
  private startedCount = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(
        `concurrency of ${this.name} must be a whole number of at least 1`,
      );
    }
    this.metrics = options.metrics;
    this.logger = options.logger ?? noopLogger;
    this.queue = new WorkQueue<string>(
      new ExponentialBackoffRateLimiter<string>(
        options.baseBackoffMs ?? 50,
        options.maxBackoffMs ?? 60_000,
      ),
      this.metrics?.forQueue(this.name),
    );
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Enqueues the keys `map` returns for every change the informer sees.
   * With no map, the object's own key. `updated` filters updates, as
   * controller-runtime's predicates do; a periodic resync (old and new the
   * same object) always passes.
   */
  watch<T extends KubeObject>(
    informer: Informer<T>,
    map: (object: T) => string | string[] | undefined = o =>
      o.metadata.namespace
        ? `${o.metadata.namespace}/${o.metadata.name}`
        : o.metadata.name,
    options: {
      updated?: (oldObject: T, newObject: T) => boolean;
      onlyAddDelete?: boolean;
      /** Batch bursts: enqueue after this delay (the earliest pending wins). */
      delayMs?: number;
      /**
       * Batch bursts of updates only, by the object updated (0: at once);
       * adds and deletes are enqueued at once.
       */
      updateDelayMs?: (object: T) => number;
    } = {},
  ): void {
    const enqueue = (object: T, delayMs = options.delayMs) => {
      const keys = map(object);
      if (keys === undefined) return;
      for (const key of Array.isArray(keys) ? keys : [keys]) {
        if (delayMs) this.queue.addAfter(key, delayMs);
        else this.enqueue(key);
      }
    };
    informer.addHandlers({
      add: o => enqueue(o),
      update: (oldObject, object) => {
        if (options.onlyAddDelete) return;
        if (
          oldObject !== object &&
          options.updated &&
          !options.updated(oldObject, object)
        ) {
          return;
        }
        enqueue(object, options.updateDelayMs?.(object) ?? options.delayMs);
      },
      delete: o => enqueue(o),
    });
  }

  /**
   * Tells `listener` of every key whose reconcile finished (whatever its
   * result), with that reconcile's number (see `reconcilesStarted`); returns
   * the unsubscribe. Tests use it as a barrier: "the controller has
   * processed this key since".
   */
  onReconciled(listener: (key: string, started: number) => void): () => void {
    this.reconciledListeners.add(listener);
    return () => this.reconciledListeners.delete(listener);
  }

  /** How many reconciles have started; a later one has a higher number. */
  get reconcilesStarted(): number {
    return this.startedCount;
  }

  /** Starts the workers. */
  start(): void {
    if (this.workers.length) return;
    this.metrics?.forController(this.name, this.concurrency);
    for (let i = 0; i < this.concurrency; i++) {
      this.workers.push(this.work());
    }
  }

  /** Stops taking keys and waits for reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = ++this.startedCount;
      await this.reconcileKey(key);
      this.queue.done(key);
      for (const listener of this.reconciledListeners) listener(key, started);
    }
  }

  private async reconcileKey(key: string): Promise<void> {
    const labels = { controller: this.name };
    const end = this.metrics?.reconcileTime.startTimer(labels);
    this.metrics?.activeWorkers.inc(labels);
    try {
      const result = await this.reconciler.reconcile(key);
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics?.reconciled(this.name, 'requeue_after');
      } else {
        this.metrics?.reconciled(this.name, 'success');
      }
    } catch (error) {
      this.metrics?.reconciled(this.name, 'error');
      const retries = this.queue.retries(key);
      this.logger[retries > 3 ? 'warn' : 'debug'](
        `${this.name} ${key}: reconcile failed, retrying`,
        { error: (error as Error).message, retries },
      );
      this.queue.addRateLimited(key);
    } finally {
      this.metrics?.activeWorkers.dec(labels);
      end?.();
    }
  }
}
