/**
 * What runs while an operator instance leads: the informers, the Tenant and
 * App controllers and their wiring, and a watch on CRDs that restarts the
 * session when an optional API (Capsule, Cilium, Knative) comes or goes.
 * The child informers and their event-to-owner mapping come from the child
 * registries (`TENANT_CHILDREN`, `APP_CHILDREN`); the optional APIs and
 * their CRD names from `@paved/kube`'s resource table.
 */
import { LABEL_MANAGED_BY, MANAGED_BY_PAVED } from '@paved/plugin-paved-common';
import {
  APPS,
  ClusterFeatures,
  crdName,
  CRDS,
  detectFeatures,
  Informer,
  KubeClient,
  KubeObject,
  Logger,
  objectKey,
  OPTIONAL_FEATURES,
  optionalCrdNames,
  ResourceType,
  TENANTS,
} from '@paved/kube';
import {
  Controller,
  Reconciler,
  specOrDeletionChanged,
} from './controller/controller';
import { OperatorMetrics } from './controller/metrics';
import { DEFAULT_DESIRED_STATE_CONFIG } from './desired/config';
import { namespaceName } from './desired/namespace';
import { OperatorOptions } from './options';
import { AppReconciler } from './reconcilers/app/appReconciler';
import { APP_CHILDREN } from './reconcilers/app/children';
import { ChildRegistry, watchedTypes } from './reconcilers/children';
import { InformerSet, ReconcileContext } from './reconcilers/context';
import { keepOwnerClusterRole, OwnerRoleKeeper } from './reconcilers/ownerRole';
import { TENANT_CHILDREN } from './reconcilers/tenant/children';
import { TenantReconciler } from './reconcilers/tenant/tenantReconciler';
import { StatusMemo } from './reconcilers/status';

const MANAGED = `${LABEL_MANAGED_BY}=${MANAGED_BY_PAVED}`;
const DEFAULT_SYNC_TIMEOUT_MS = 120_000;

/** What this instance runs while it leads. */
export class LeaderSession {
  ctx: ReconcileContext | undefined;
  synced = false;
  private readonly informers = new InformerSet();
  readonly controllers: Controller[] = [];
  private crdInformer: Informer | undefined;
  private ownerRole: OwnerRoleKeeper | undefined;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly options: OperatorOptions,
    private readonly metrics: OperatorMetrics,
    private readonly logger: Logger,
    private readonly onFeaturesChanged: () => void,
  ) {}

  /** The informer of `type`, made once per session. */
  private informer(type: ResourceType, labelSelector?: string): Informer {
    const existing = this.informers.get(type);
    if (existing) return existing;
    const informer: Informer = new Informer(this.client, {
      type,
      labelSelector,
      resyncMs: this.options.resyncMs ?? 600_000,
      logger: this.logger,
      onRestart: reason =>
        this.metrics.watchRestarts.inc({ resource: type.plural, reason }),
    });
    this.informers.add(informer);
    return informer;
  }

  async start(): Promise<void> {
    const detected = await detectFeatures(this.client);
    const features = { ...detected, ...this.options.features };
    this.logger.info('cluster features', { ...features });
    const config = { ...DEFAULT_DESIRED_STATE_CONFIG, ...this.options.config };
    // Before any owner is bound to it.
    this.ownerRole = await keepOwnerClusterRole(
      this.client,
      config,
      this.logger,
      this.options.resyncMs ?? 600_000,
    );
    if (this.stopped) this.ownerRole.stop();
    const ctx: ReconcileContext = {
      client: this.client,
      config,
      features,
      logger: this.logger,
      pollMs: this.options.pollMs ?? 500,
      informers: this.informers,
      statuses: new StatusMemo(),
    };
    this.ctx = ctx;
    const tenantInformer = this.informer(TENANTS);
    const appInformer = this.informer(APPS);

    const concurrency = this.options.concurrency ?? 8;
    const appReconciler = new AppReconciler(ctx);
    const controller = (name: string, reconciler: Reconciler) =>
      new Controller({
        name,
        reconciler,
        concurrency,
        metrics: this.metrics,
        logger: this.logger,
      });
    const tenants = controller('tenant', new TenantReconciler(ctx));
    const apps = controller('app', appReconciler);
    this.controllers.push(tenants, apps);

    // Each owner follows itself (spec or deletion) and its children.
    tenants.watch(tenantInformer, undefined, {
      updated: specOrDeletionChanged,
    });
    apps.watch(appInformer, undefined, { updated: specOrDeletionChanged });
    this.watchChildren(tenants, TENANT_CHILDREN, features);
    this.watchChildren(apps, APP_CHILDREN, features);

    // App count and deletion progress of a tenant follow its apps.
    tenants.watch(
      appInformer,
      o => appReconciler.tenantOf(o.metadata.namespace!),
      // A burst of new apps becomes one app-count update, not one each.
      { onlyAddDelete: true, delayMs: 500 },
    );
    // A deleted app frees a place for apps held back by maxApps.
    appInformer.addHandlers({
      delete: gone =>
        appInformer
          .list(gone.metadata.namespace)
          .forEach(a => apps.enqueue(objectKey(a))),
    });
    // Apps wait for their tenant; a tenant change wakes them.
    apps.watch(
      tenantInformer,
      tenant =>
        appInformer
          .list(namespaceName(tenant.metadata.name, config))
          .map(objectKey),
      {
        updated: (o, n) =>
          (o.status as any)?.phase !== (n.status as any)?.phase ||
          o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp,
      },
    );

    for (const informer of this.informers.all()) informer.start();
    await this.waitForSync();
    if (this.stopped) return;
    this.synced = true;
    for (const c of this.controllers) c.start();
    this.watchCrds(features);
  }

  /** One informer per child type the cluster serves; events go to the owner. */
  private watchChildren(
    owner: Controller,
    registry: ChildRegistry<unknown, unknown>,
    features: ClusterFeatures,
  ): void {
    for (const { type, updated, updateDelayMs } of watchedTypes(
      registry,
      features,
    )) {
      owner.watch(this.informer(type, MANAGED), registry.ownerKey, {
        updated,
        updateDelayMs,
      });
    }
  }

  /**
   * Waits for every informer's first list, at most `syncTimeoutMs`; then
   * fails naming the ones that did not sync and why.
   */
  private async waitForSync(): Promise<void> {
    const timeoutMs = this.options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    const informers = this.informers.all();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>(resolve => {
      timer = setTimeout(() => resolve('expired'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([
        Promise.all(informers.map(i => i.waitForSync())),
        expired,
      ]);
      if (outcome !== 'expired' || this.stopped) return;
    } finally {
      clearTimeout(timer);
    }
    const unsynced = informers
      .filter(i => !i.hasSynced)
      .map(i => {
        const why = i.lastError ?? 'no answer yet';
        return `${crdName(i.type)} (${why})`;
      });
    throw new Error(
      `informer caches did not sync within ${Math.round(
        timeoutMs / 1000,
      )} s: ${unsynced.join('; ')}`,
    );
  }

  /** A CRD of an optional API appearing or going away restarts the session's view. */
  private watchCrds(features: ClusterFeatures): void {
    const crdInformer = new Informer(this.client, {
      type: CRDS,
      logger: this.logger,
    });
    this.crdInformer = crdInformer;
    const relevant = optionalCrdNames();
    let primed = false;
    let restarting = false;
    const forced = this.options.features ?? {};
    // Discovery lags the CRD's own events a little: look again a few times.
    const detect = (attempt: number) => {
      if (this.stopped || restarting) return;
      const again = () => {
        if (attempt < 6) {
          setTimeout(() => detect(attempt + 1), 250 * 2 ** attempt).unref();
        }
      };
      detectFeatures(this.client)
        .then(next => {
          const changed = OPTIONAL_FEATURES.some(
            f => forced[f] === undefined && next[f] !== features[f],
          );
          if (changed && !restarting && !this.stopped) {
            restarting = true;
            this.logger.warn('optional CRDs changed; restarting controllers', {
              ...next,
            });
            this.onFeaturesChanged();
          } else if (!changed) {
            again();
          }
        })
        .catch(again);
    };
    const check = (crd: KubeObject) => {
      if (primed && relevant.has(crd.metadata.name)) detect(0);
    };
    // Updates too: a new CRD is served only once it is Established.
    crdInformer.addHandlers({
      add: check,
      update: (_old, crd) => check(crd),
      delete: check,
    });
    crdInformer.start();
    crdInformer.waitForSync().then(() => {
      primed = true;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ownerRole?.stop();
    await Promise.all(this.controllers.map(c => c.stop()));
    await Promise.all(this.informers.all().map(i => i.stop()));
    await this.crdInformer?.stop();
  }
}
