import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  APPS,
  Informer,
  InformerEventSource,
  KubeClient,
  Logger,
  TENANTS,
} from '@paved/kube';
import {
  AppResource,
  LABEL_TENANT,
  TenantResource,
} from '@paved/plugin-paved-common';

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

/** The server ends each watch after 240–480 s; the informer resumes it. */
const WATCH_TIMEOUT_SECONDS = 240;
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

type Tenant = TenantResource & { [key: string]: unknown };
type App = AppResource & { [key: string]: unknown };

/**
 * The informer's own lines (a watch that failed and is retried, a relist
 * after 410 Gone) are routine for the backend: debug, as they always were.
 */
function quiet(logger: LoggerService): Logger {
  return {
    debug: message => logger.debug(message),
    info: message => logger.debug(message),
    warn: message => logger.debug(message),
    error: message => logger.warn(message),
  };
}

/**
 * What the cluster says about Tenants and Apps, kept current by two
 * `@paved/kube` informers (list, then watch; relist on 410 Gone; backoff
 * while the API server is unreachable) so that reads never call the API
 * server. When a watch is down, `known` is false and callers show config
 * with status unknown. What changed is told to {@link StatusCache.onChange}
 * listeners (ClusterSync's quick repair and tenant resync).
 */
export class StatusCache {
  private readonly tenants: Informer<Tenant>;
  private readonly apps: Informer<App>;
  private readonly listeners = new Set<(change: Change) => void>();

  constructor(client: KubeClient, private readonly logger: LoggerService) {
    const options = {
      watchTimeoutSeconds: WATCH_TIMEOUT_SECONDS,
      initialBackoffMs: INITIAL_BACKOFF_MS,
      maxBackoffMs: MAX_BACKOFF_MS,
      logger: quiet(logger),
    };
    this.tenants = new Informer<Tenant>(client, { ...options, type: TENANTS });
    this.apps = new Informer<App>(client, { ...options, type: APPS });
    this.tenants.addHandlers(
      handlers<Tenant>((resource, event, previous) =>
        this.emit({
          kind: 'tenant',
          name: resource.metadata.name,
          event,
          resource,
          previous,
        }),
      ),
    );
    this.apps.addHandlers(
      handlers<App>((resource, event, previous) =>
        this.emit({
          kind: 'app',
          tenant: resource.metadata.labels?.[LABEL_TENANT] ?? '',
          namespace: resource.metadata.namespace ?? '',
          name: resource.metadata.name,
          event,
          resource,
          previous,
        }),
      ),
    );
  }

  start() {
    this.tenants.start();
    this.apps.start();
  }

  async stop() {
    await Promise.all([this.tenants.stop(), this.apps.stop()]);
  }

  /** True while both informers are listed and watching. */
  get synced() {
    return this.live(this.tenants) && this.live(this.apps);
  }

  tenant(name: string): { known: boolean; resource?: TenantResource } {
    if (!this.live(this.tenants)) return { known: false };
    return { known: true, resource: this.tenants.get(name) };
  }

  app(
    namespace: string,
    name: string,
  ): { known: boolean; resource?: AppResource } {
    if (!this.live(this.apps)) return { known: false };
    return { known: true, resource: this.apps.get(`${namespace}/${name}`) };
  }

  /** The Apps the cache holds in one namespace (empty while not known). */
  appsIn(namespace: string): AppResource[] {
    return this.live(this.apps) ? this.apps.list(namespace) : [];
  }

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private live(informer: Informer<Tenant> | Informer<App>) {
    return informer.hasSynced && informer.isLive;
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

/** Informer events as changes: what a (re)list found is `listed`. */
function handlers<T>(
  emit: (resource: T, event: ChangeEvent, previous?: T) => void,
) {
  const listedOr = (source: InformerEventSource, event: ChangeEvent) =>
    source === 'list' ? 'listed' : event;
  return {
    add: (object: T, source: InformerEventSource) =>
      emit(object, listedOr(source, 'added')),
    update: (previous: T, object: T, source: InformerEventSource) => {
      if (source === 'resync') return;
      emit(object, listedOr(source, 'modified'), previous);
    },
    delete: (object: T) => emit(object, 'deleted', object),
  };
}
