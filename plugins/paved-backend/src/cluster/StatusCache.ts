import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  AppResource,
  LABEL_TENANT,
  TenantResource,
} from '@paved/plugin-paved-common';
import { KubeClient, KubeError, WatchEvent } from './KubeClient';
import { ALL_APPS_PATH, TENANTS_PATH } from './resources';

/**
 * How an object turned up: in a (re-)list, or as a watch event. A re-list
 * reports objects that vanished while the watch was down as `deleted`.
 */
export type ChangeEvent = 'listed' | 'added' | 'modified' | 'deleted';

/** One Tenant or App the cache saw change, with what it was before. */
export type Change = { event: ChangeEvent } & (
  | {
      kind: 'tenant';
      name: string;
      resource: TenantResource;
      previous?: TenantResource;
    }
  | {
      kind: 'app';
      /** From the `paved.dev/tenant` label ('' when missing). */
      tenant: string;
      namespace: string;
      name: string;
      resource: AppResource;
      previous?: AppResource;
    }
);

const WATCH_EVENTS = {
  ADDED: 'added',
  MODIFIED: 'modified',
  DELETED: 'deleted',
} as const;

const WATCH_TIMEOUT_SECONDS = 240;
const MAX_BACKOFF_MS = 30_000;

/**
 * One list+watch loop for a collection, feeding a map. Survives dropped
 * streams (re-watch from the last resourceVersion), `410 Gone` (re-list) and
 * an unreachable API server (backoff, then re-list).
 */
class Reflector<T extends { metadata: { name: string; namespace?: string } }> {
  readonly items = new Map<string, T>();
  synced = false;
  private resourceVersion?: string;
  private readonly abort = new AbortController();
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
    private readonly key: (item: T) => string,
    private readonly onChange: (
      item: T,
      event: ChangeEvent,
      previous?: T,
    ) => void,
    private readonly logger: LoggerService,
  ) {}

  start() {
    this.loop = this.run();
  }

  async stop() {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
  }

  private async run() {
    let backoff = 500;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.list();
        backoff = 500;
        await this.watchOnce();
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof KubeError && error.code === 410) {
          this.resourceVersion = undefined;
          continue;
        }
        this.synced = false;
        this.resourceVersion = undefined;
        this.logger.debug(`Watch of ${this.path} failed: ${error}`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private sleep(ms: number) {
    return new Promise<void>(resolve => {
      if (this.abort.signal.aborted) {
        resolve();
        return;
      }
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  private async list() {
    const list = await this.client.request<{
      items: T[];
      metadata: { resourceVersion: string };
    }>('GET', this.path);
    const previous = new Map(this.items);
    this.items.clear();
    for (const item of list.items) {
      this.items.set(this.key(item), item);
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.synced = true;
    for (const [key, item] of previous) {
      if (!this.items.has(key)) this.onChange(item, 'deleted', item);
    }
    for (const [key, item] of this.items) {
      this.onChange(item, 'listed', previous.get(key));
    }
  }

  private async watchOnce() {
    const query = `?watch=true&allowWatchBookmarks=true&timeoutSeconds=${WATCH_TIMEOUT_SECONDS}&resourceVersion=${this.resourceVersion}`;
    await this.client.watch(
      this.path + query,
      (event: WatchEvent<T>) => {
        if (event.type === 'ERROR') {
          const status = event.object as any;
          throw new KubeError(
            `watch ${this.path}: ${status?.message}`,
            status?.code ?? 500,
          );
        }
        const rv = (event.object as any)?.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (event.type === 'BOOKMARK') return;
        const key = this.key(event.object);
        const previous = this.items.get(key);
        if (event.type === 'DELETED') this.items.delete(key);
        else this.items.set(key, event.object);
        this.onChange(event.object, WATCH_EVENTS[event.type], previous);
      },
      this.abort.signal,
    );
  }
}

function namespacedKey(item: {
  metadata: { name: string; namespace?: string };
}) {
  return `${item.metadata.namespace}/${item.metadata.name}`;
}

/**
 * What the cluster says about Tenants and Apps, kept current by watches so
 * that reads never call the API server. When the watch is down, `known` is
 * false and callers show config with status unknown.
 */
export class StatusCache {
  private readonly tenants: Reflector<TenantResource>;
  private readonly apps: Reflector<AppResource>;
  private readonly listeners = new Set<(change: Change) => void>();

  constructor(client: KubeClient, private readonly logger: LoggerService) {
    this.tenants = new Reflector<TenantResource>(
      client,
      TENANTS_PATH,
      t => t.metadata.name,
      (t, event, previous) =>
        this.emit({
          kind: 'tenant',
          name: t.metadata.name,
          event,
          resource: t,
          previous,
        }),
      logger,
    );
    this.apps = new Reflector<AppResource>(
      client,
      ALL_APPS_PATH,
      namespacedKey,
      (a, event, previous) =>
        this.emit({
          kind: 'app',
          tenant: a.metadata.labels?.[LABEL_TENANT] ?? '',
          namespace: a.metadata.namespace ?? '',
          name: a.metadata.name,
          event,
          resource: a,
          previous,
        }),
      logger,
    );
  }

  start() {
    this.tenants.start();
    this.apps.start();
  }

  async stop() {
    await Promise.all([this.tenants.stop(), this.apps.stop()]);
  }

  /** True while both watches are listed and streaming. */
  get synced() {
    return this.tenants.synced && this.apps.synced;
  }

  tenant(name: string): { known: boolean; resource?: TenantResource } {
    if (!this.tenants.synced) return { known: false };
    return { known: true, resource: this.tenants.items.get(name) };
  }

  app(
    namespace: string,
    name: string,
  ): { known: boolean; resource?: AppResource } {
    if (!this.apps.synced) return { known: false };
    return {
      known: true,
      resource: this.apps.items.get(`${namespace}/${name}`),
    };
  }

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: Change) {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        // A listener's bug must not end the watch.
        this.logger.warn(`Status cache listener failed: ${error}`);
      }
    }
  }
}
