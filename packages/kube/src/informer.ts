/**
 * An informer: lists a kind, then watches it from the list's resourceVersion,
 * keeping an in-memory cache and telling handlers what changed.
 *
 * It survives what the field has learnt to expect of watches: the server
 * ending a watch (resume from the last resourceVersion seen), `410 Gone`
 * (relist and diff against the cache so no delete is missed), dropped
 * connections and errors (reconnect with capped exponential backoff), and a
 * silent stall (no event or bookmark for too long: reconnect). A periodic
 * resync hands every cached object to the update handler again.
 */
import { KubeClient, WatchEvent } from './client';
import { isGone } from './errors';
import { KubeObject, objectKey, ResourceType } from './resources';
import { Logger, noopLogger } from './logger';

/**
 * Where an event came from: a (re)list's diff against the cache, a watch
 * event, or the periodic resync.
 */
export type InformerEventSource = 'list' | 'watch' | 'resync';

export interface InformerHandlers<T extends KubeObject> {
  add?(object: T, source: InformerEventSource): void;
  update?(oldObject: T, newObject: T, source: InformerEventSource): void;
  delete?(object: T, source: InformerEventSource): void;
}

export interface InformerOptions {
  type: ResourceType;
  labelSelector?: string;
  /** Every object is handed to `update` again this often; 0 disables. */
  resyncMs?: number;
  /** Server-side watch timeout; a random spread is added, as client-go does. */
  watchTimeoutSeconds?: number;
  /** A watch with no event or bookmark for this long is restarted. */
  stallTimeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pageSize?: number;
  /**
   * Start by watching from this resourceVersion instead of listing, as an
   * informer resuming after a restart would. A 410 leads to a relist.
   */
  resumeFrom?: string;
  logger?: Logger;
  /** Told of each restart, for metrics. */
  onRestart?: (reason: 'gone' | 'error') => void;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Relists caused by `410 Gone`. */
  gone: number;
  /** Errors that led to a backoff and reconnect, stalls included. */
  errors: number;
  events: number;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private resourceVersion: string | undefined;
  private synced = false;
  private connected = false;
  private failure: string | undefined;
  private syncWaiters: Array<() => void> = [];
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private sleepTimer: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  readonly stats: InformerStats = {
    lists: 0,
    watches: 0,
    gone: 0,
    errors: 0,
    events: 0,
  };
  private readonly logger: Logger;

  constructor(
    private readonly client: KubeClient,
    private readonly options: InformerOptions,
  ) {
    this.logger = options.logger ?? noopLogger;
    this.resourceVersion = options.resumeFrom;
  }

  get type(): ResourceType {
    return this.options.type;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    // A handler added late still learns of what is already cached.
    for (const object of this.cache.values()) handlers.add?.(object, 'list');
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    const resyncMs = this.options.resyncMs ?? 0;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), resyncMs);
      this.resyncTimer.unref?.();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.resyncTimer);
    this.sleepTimer?.wake();
    await this.loop;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /**
   * True while the cache is current: after a list or once a watch is
   * accepted, until a list or watch fails (then false until the next one
   * succeeds). A cache that is not live may miss changes.
   */
  get isLive(): boolean {
    return this.connected && !this.abort.signal.aborted;
  }

  /** Resolves once the first list is in the cache (or the informer stops). */
  waitForSync(): Promise<void> {
    if (this.synced || this.abort.signal.aborted) return Promise.resolve();
    return new Promise(resolve => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined
      ? all
      : all.filter(o => o.metadata.namespace === namespace);
  }

  get size(): number {
    return this.cache.size;
  }

  get lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  /** Why the last list or watch failed, until one succeeds again. */
  get lastError(): string | undefined {
    return this.failure;
  }

  private async run(): Promise<void> {
    const initialBackoff = this.options.initialBackoffMs ?? 200;
    const maxBackoff = this.options.maxBackoffMs ?? 30_000;
    let backoff = initialBackoff;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        if (signal.aborted) break;
        await this.watchOnce();
        backoff = initialBackoff;
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          this.stats.gone += 1;
          this.options.onRestart?.('gone');
          this.logger.info(
            `${this.type.plural}: resourceVersion too old, relisting`,
          );
          this.resourceVersion = undefined;
          continue;
        }
        this.stats.errors += 1;
        // A failure after the cache was live (a list, or an accepted watch)
        // is a new outage: retry from the first backoff, not from where the
        // last outage left it (else each outage of a long-lived client
        // waits twice as long as the one before, up to maxBackoff).
        if (this.connected) backoff = initialBackoff;
        this.connected = false;
        this.failure = (error as Error).message;
        this.options.onRestart?.('error');
        this.logger.warn(
          `${this.type.plural}: watch failed, retrying in ${backoff}ms: ${
            (error as Error).message
          }`,
        );
        await this.sleep(backoff + Math.random() * backoff * 0.2);
        backoff = Math.min(maxBackoff, backoff * 2);
      }
    }
  }

  private async watchOnce(): Promise<void> {
    const base = this.options.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(base + Math.random() * base);
    this.stats.watches += 1;
    await this.client.watch(this.type, {
      resourceVersion: this.resourceVersion!,
      labelSelector: this.options.labelSelector,
      timeoutSeconds,
      stallTimeoutMs:
        this.options.stallTimeoutMs ?? (timeoutSeconds + 30) * 1000,
      signal: this.abort.signal,
      onEvent: event => this.handleEvent(event),
      onOpen: () => {
        this.connected = true;
        this.failure = undefined;
      },
    });
  }

  private handleEvent(event: WatchEvent): void {
    const object = slim(event.object) as T;
    const resourceVersion = object.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (resourceVersion) this.resourceVersion = resourceVersion;
      return;
    }
    this.stats.events += 1;
    const key = objectKey(object);
    const old = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.emit(h => h.delete?.(object, 'watch'));
    } else {
      this.cache.set(key, object);
      if (old) this.emit(h => h.update?.(old, object, 'watch'));
      else this.emit(h => h.add?.(object, 'watch'));
    }
    if (resourceVersion) this.resourceVersion = resourceVersion;
    // A resumed informer is in sync once its watch delivers.
    this.markSynced();
  }

  /** Lists everything (in pages) and replaces the cache, emitting the diff. */
  private async relist(): Promise<void> {
    this.stats.lists += 1;
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.client.list<T>(this.type, {
        labelSelector: this.options.labelSelector,
        limit: this.options.pageSize ?? 500,
        continue: continueToken,
      });
      for (const item of page.items) {
        // Lists leave out apiVersion/kind on items; watches include them.
        fresh.set(objectKey(item), {
          apiVersion: apiVersion(this.type),
          kind: this.type.kind,
          ...slim(item),
        });
      }
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    const previous = new Map(this.cache);
    this.cache.clear();
    for (const [key, object] of fresh) this.cache.set(key, object);
    for (const [key, old] of previous) {
      if (!fresh.has(key)) this.emit(h => h.delete?.(old, 'list'));
    }
    for (const [key, object] of fresh) {
      const old = previous.get(key);
      if (!old) this.emit(h => h.add?.(object, 'list'));
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion)
        this.emit(h => h.update?.(old, object, 'list'));
    }
    this.resourceVersion = resourceVersion;
    this.connected = true;
    this.failure = undefined;
    this.markSynced();
  }

  private resync(): void {
    for (const object of this.cache.values()) {
      this.emit(h => h.update?.(object, object, 'resync'));
    }
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  private emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.handlers) {
      try {
        call(handlers);
      } catch (error) {
        this.logger.error(
          `${this.type.plural}: event handler threw: ${
            (error as Error).message
          }`,
        );
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const sleeping = {
        timer: undefined as NodeJS.Timeout | undefined,
        wake: () => {
          clearTimeout(sleeping.timer);
          this.sleepTimer = undefined;
          resolve();
        },
      };
      sleeping.timer = setTimeout(sleeping.wake, ms);
      this.sleepTimer = { timer: sleeping.timer, wake: sleeping.wake };
    });
  }
}

/**
 * Drops managedFields, which no reconciler reads and which are often the
 * larger part of an object: the cache holds every watched object.
 */
function slim<O extends KubeObject>(object: O): O {
  if (object.metadata && 'managedFields' in object.metadata) {
    const { managedFields: _dropped, ...metadata } =
      object.metadata as typeof object.metadata & { managedFields?: unknown };
    return { ...object, metadata };
  }
  return object;
}

function apiVersion(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}
