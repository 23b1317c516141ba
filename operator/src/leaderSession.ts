/**
 * What runs while an operator instance leads: the informers, the Tenant and
 * App controllers and their wiring, and a watch on CRDs that restarts the
 * session when an optional API (Capsule, Cilium, Knative) comes or goes.
 */
import {
  LABEL_APP,
  LABEL_MANAGED_BY,
  LABEL_TENANT,
  MANAGED_BY_PAVED,
} from '@paved/plugin-paved-common';
import { Controller, specOrDeletionChanged } from './controller/controller';
import { Informer } from '@paved/kube';
import { Logger } from '@paved/kube';
import { OperatorMetrics } from './controller/metrics';
import { KubeClient } from '@paved/kube';
import {
  APPS,
  CAPSULE_TENANTS,
  CILIUM_NETWORK_POLICIES,
  CRDS,
  DOMAIN_MAPPINGS,
  KNATIVE_SERVICES,
  KubeObject,
  LIMIT_RANGES,
  NAMESPACES,
  NETWORK_POLICIES,
  objectKey,
  RESOURCE_QUOTAS,
  ResourceType,
  REVISIONS,
  ROLE_BINDINGS,
  TENANTS,
} from '@paved/kube';
import { DEFAULT_DESIRED_STATE_CONFIG } from './desired/config';
import { detectFeatures } from './features';
import { namespaceName } from './desired/namespace';
import type { OperatorOptions } from './operator';
import { AppReconciler } from './reconcilers/app/appReconciler';
import { ClusterFeatures, ReconcileContext } from './reconcilers/context';
import { TenantReconciler } from './reconcilers/tenant/tenantReconciler';
import { keepOwnerClusterRole, OwnerRoleKeeper } from './reconcilers/ownerRole';

const MANAGED = `${LABEL_MANAGED_BY}=${MANAGED_BY_PAVED}`;

/** What runs while this instance leads. */
export class LeaderSession {
  ctx: ReconcileContext | undefined;
  synced = false;
  private readonly informers: Informer[] = [];
  private readonly controllers: Controller[] = [];
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

  private informer(type: ResourceType, labelSelector?: string): Informer {
    const informer = new Informer(this.client, {
      type,
      labelSelector,
      resyncMs: this.options.resyncMs ?? 600_000,
      logger: this.logger,
      onRestart: reason =>
        this.metrics.watchRestarts.inc({ resource: type.plural, reason }),
    });
    this.informers.push(informer);
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
    const informers: ReconcileContext['informers'] = {
      tenants: this.informer(TENANTS),
      apps: this.informer(APPS),
      namespaces: this.informer(NAMESPACES, MANAGED),
      resourceQuotas: this.informer(RESOURCE_QUOTAS, MANAGED),
      limitRanges: this.informer(LIMIT_RANGES, MANAGED),
      roleBindings: this.informer(ROLE_BINDINGS, MANAGED),
      networkPolicies: this.informer(NETWORK_POLICIES, MANAGED),
      ciliumNetworkPolicies: features.cilium
        ? this.informer(CILIUM_NETWORK_POLICIES, MANAGED)
        : undefined,
      capsuleTenants: features.capsule
        ? this.informer(CAPSULE_TENANTS, MANAGED)
        : undefined,
      knativeServices: features.knative
        ? this.informer(KNATIVE_SERVICES, MANAGED)
        : undefined,
      domainMappings: features.knative
        ? this.informer(DOMAIN_MAPPINGS, MANAGED)
        : undefined,
      // Knative copies the template's labels onto each Revision.
      revisions: features.knative
        ? this.informer(REVISIONS, MANAGED)
        : undefined,
    };
    const ctx: ReconcileContext = {
      client: this.client,
      config,
      features,
      logger: this.logger,
      pollMs: this.options.pollMs ?? 500,
      informers,
    };
    this.ctx = ctx;

    const concurrency = this.options.concurrency ?? 8;
    const tenantReconciler = new TenantReconciler(ctx);
    const appReconciler = new AppReconciler(ctx);
    const tenants = new Controller({
      name: 'tenant',
      reconciler: tenantReconciler,
      concurrency,
      metrics: this.metrics,
      logger: this.logger,
    });
    const apps = new Controller({
      name: 'app',
      reconciler: appReconciler,
      concurrency,
      metrics: this.metrics,
      logger: this.logger,
    });
    this.controllers.push(tenants, apps);

    const byTenantLabel = (o: KubeObject) => o.metadata.labels?.[LABEL_TENANT];
    tenants.watch(informers.tenants, undefined, {
      updated: specOrDeletionChanged,
    });
    for (const child of [
      informers.namespaces,
      informers.resourceQuotas,
      informers.limitRanges,
      informers.roleBindings,
      informers.networkPolicies,
      informers.ciliumNetworkPolicies,
      informers.capsuleTenants,
    ]) {
      if (child) tenants.watch(child, byTenantLabel);
    }
    // App count and deletion progress of a tenant follow its apps.
    tenants.watch(
      informers.apps,
      o => appReconciler.tenantOf(o.metadata.namespace!),
      // A burst of new apps becomes one app-count update, not one each.
      { onlyAddDelete: true, delayMs: 500 },
    );

    apps.watch(informers.apps, undefined, { updated: specOrDeletionChanged });
    // A deleted app frees a place for apps held back by maxApps.
    informers.apps.addHandlers({
      delete: gone =>
        informers.apps
          .list(gone.metadata.namespace)
          .forEach(a =>
            apps.enqueue(`${a.metadata.namespace}/${a.metadata.name}`),
          ),
    });
    const byAppLabel = (o: KubeObject) => {
      const app = o.metadata.labels?.[LABEL_APP];
      return app ? `${o.metadata.namespace}/${app}` : undefined;
    };
    if (informers.knativeServices)
      apps.watch(informers.knativeServices, byAppLabel);
    if (informers.domainMappings)
      apps.watch(informers.domainMappings, byAppLabel);
    // Instance counts follow Knative's scaling (to zero and back).
    if (informers.revisions)
      apps.watch(informers.revisions, byAppLabel, {
        updated: (o, n) => {
          const replicas = (r: KubeObject) => {
            const status = r.status as
              | { actualReplicas?: number; desiredReplicas?: number }
              | undefined;
            return `${status?.actualReplicas}/${status?.desiredReplicas}`;
          };
          return replicas(o) !== replicas(n);
        },
      });
    // Apps wait for their tenant; a tenant change wakes them.
    apps.watch(
      informers.tenants,
      tenant =>
        informers.apps
          .list(namespaceName(tenant.metadata.name, config))
          .map(objectKey),
      {
        updated: (o, n) =>
          (o.status as any)?.phase !== (n.status as any)?.phase ||
          o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp,
      },
    );

    for (const informer of this.informers) informer.start();
    await Promise.all(this.informers.map(i => i.waitForSync()));
    if (this.stopped) return;
    this.synced = true;
    for (const controller of this.controllers) controller.start();
    this.watchCrds(features);
  }

  /** A CRD of an optional API appearing or going away restarts the session's view. */
  private watchCrds(features: ClusterFeatures): void {
    const crdInformer = new Informer(this.client, {
      type: CRDS,
      logger: this.logger,
    });
    this.crdInformer = crdInformer;
    const relevant = new Set([
      'tenants.capsule.clastix.io',
      'ciliumnetworkpolicies.cilium.io',
      'services.serving.knative.dev',
    ]);
    let primed = false;
    let restarting = false;
    // Discovery lags the CRD's own events a little: look again a few times.
    const detect = (attempt: number) => {
      if (this.stopped || restarting) return;
      detectFeatures(this.client)
        .then(next => {
          const forced = this.options.features ?? {};
          const changed = (['capsule', 'cilium', 'knative'] as const).some(
            f => forced[f] === undefined && next[f] !== features[f],
          );
          if (changed && !restarting && !this.stopped) {
            restarting = true;
            this.logger.warn('optional CRDs changed; restarting controllers', {
              ...next,
            });
            this.onFeaturesChanged();
          } else if (!changed && attempt < 6) {
            setTimeout(() => detect(attempt + 1), 250 * 2 ** attempt).unref();
          }
        })
        .catch(() => {
          if (attempt < 6) {
            setTimeout(() => detect(attempt + 1), 250 * 2 ** attempt).unref();
          }
        });
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
    await Promise.all(this.informers.map(i => i.stop()));
    await this.crdInformer?.stop();
  }
}
