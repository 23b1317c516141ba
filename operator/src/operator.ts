/**
 * The operator: leader election, then informers and the Tenant and App
 * controllers while this instance leads; health and metrics all along.
 */
import * as os from 'node:os';
import * as k8s from '@kubernetes/client-node';
import {
  LABEL_APP,
  LABEL_MANAGED_BY,
  LABEL_TENANT,
  MANAGED_BY_PAVED,
} from '@paved/plugin-paved-common';
import { Controller } from './controller/controller';
import { HealthServer } from './controller/healthServer';
import { Informer } from './controller/informer';
import { LeaderElector } from './controller/leaderElection';
import { Logger, noopLogger } from './controller/logger';
import { OperatorMetrics } from './controller/metrics';
import { KubeClient } from './kube/client';
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
  RESOURCE_QUOTAS,
  ResourceType,
  ROLE_BINDINGS,
  TENANTS,
} from './kube/types';
import {
  DEFAULT_DESIRED_STATE_CONFIG,
  DesiredStateConfig,
} from './desired/config';
import { AppReconciler } from './reconcilers/app/appReconciler';
import { ClusterFeatures, ReconcileContext } from './reconcilers/context';
import { TenantReconciler } from './reconcilers/tenant/tenantReconciler';

export interface OperatorOptions {
  kubeConfig: k8s.KubeConfig;
  config?: Partial<DesiredStateConfig>;
  /** Workers per controller. Default 8. */
  concurrency?: number;
  leaderElection?: {
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Port of /healthz, /readyz and /metrics; 0 picks one; undefined: no server. */
  metricsPort?: number;
  metricsHost?: string;
  logger?: Logger;
  /** Informer resync period. Default 10 minutes. */
  resyncMs?: number;
  /** Re-check period for things in progress. Default 500 ms. */
  pollMs?: number;
  /** Force features instead of detecting them (tests of fallbacks). */
  features?: Partial<ClusterFeatures>;
}

const MANAGED = `${LABEL_MANAGED_BY}=${MANAGED_BY_PAVED}`;

export async function detectFeatures(
  client: KubeClient,
): Promise<ClusterFeatures> {
  const serves = async (groupVersion: string, plural: string) =>
    Boolean(
      (await client.discover(groupVersion))?.resources.some(
        r => r.name === plural,
      ),
    );
  const [capsule, cilium, knative] = await Promise.all([
    serves('capsule.clastix.io/v1beta2', 'tenants'),
    serves('cilium.io/v2', 'ciliumnetworkpolicies'),
    serves('serving.knative.dev/v1', 'services'),
  ]);
  return { capsule, cilium, knative };
}

export class Operator {
  readonly metrics: OperatorMetrics;
  readonly identity: string;
  private readonly logger: Logger;
  private readonly elector?: LeaderElector;
  private readonly health?: HealthServer;
  private running: Promise<void> | undefined;
  private session: LeaderSession | undefined;
  metricsPortBound: number | undefined;

  static async create(options: OperatorOptions): Promise<Operator> {
    const client = await KubeClient.fromKubeConfig(options.kubeConfig);
    return new Operator(client, options);
  }

  private constructor(
    readonly client: KubeClient,
    private readonly options: OperatorOptions,
  ) {
    this.logger = options.logger ?? noopLogger;
    this.metrics = new OperatorMetrics({ processMetrics: true });
    this.identity =
      options.leaderElection?.identity ??
      `${os.hostname()}-${process.pid}-${Math.random()
        .toString(36)
        .slice(2, 8)}`;
    if (options.leaderElection) {
      this.elector = new LeaderElector(client, {
        ...options.leaderElection,
        identity: this.identity,
        logger: this.logger,
        onStartedLeading: () => this.lead(),
        onStoppedLeading: () => this.unlead(),
      });
    }
    if (options.metricsPort !== undefined) {
      this.health = new HealthServer({
        port: options.metricsPort,
        host: options.metricsHost,
        registry: this.metrics.registry,
        ready: () => this.ready,
      });
    }
  }

  /** Ready: caches synced while leading, or standing by. */
  get ready(): boolean {
    if (this.elector && !this.elector.isLeader) return true;
    return this.session?.synced ?? false;
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.session !== undefined;
  }

  /** The running controllers' context, while leading (for tests and bench). */
  get context(): ReconcileContext | undefined {
    return this.session?.ctx;
  }

  async start(): Promise<void> {
    if (this.health) this.metricsPortBound = await this.health.start();
    if (this.elector) this.elector.start();
    else this.lead();
  }

  /** Resolves once this instance leads with synced caches. */
  async waitUntilLeading(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.isLeader && this.session?.synced)) {
      if (Date.now() > deadline) throw new Error('not leading in time');
      await new Promise(r => setTimeout(r, 50));
    }
  }

  /** Stops controllers (draining reconciles), watches, the lease and the server. */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    if (this.elector) {
      await this.elector.stop({ release: options.releaseLease !== false });
    }
    await this.unlead();
    await this.health?.stop();
    this.client.close();
  }

  private lead(): void {
    if (this.session) return;
    this.metrics.leader.set(1);
    this.session = new LeaderSession(
      this.client,
      this.options,
      this.metrics,
      this.logger,
      () => {
        // New watches for the new set of APIs: a fresh session.
        this.unlead()
          .then(() => {
            if (!this.elector || this.elector.isLeader) this.lead();
          })
          .catch(error =>
            this.logger.error(`restart failed: ${(error as Error).message}`),
          );
      },
    );
    this.running = this.session.start().catch(error => {
      this.logger.error(
        `operator failed to start: ${(error as Error).message}`,
      );
    });
  }

  private async unlead(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    this.metrics.leader.set(0);
    // Stopping first also releases a start() still waiting for caches.
    await session.stop();
    await this.running;
  }
}

/** What runs while this instance leads. */
class LeaderSession {
  ctx: ReconcileContext | undefined;
  synced = false;
  private readonly informers: Informer[] = [];
  private readonly controllers: Controller[] = [];
  private crdInformer: Informer | undefined;
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
    tenants.watch(informers.tenants);
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
    tenants.watch(informers.apps, o =>
      appReconciler.tenantOf(o.metadata.namespace!),
    );

    apps.watch(informers.apps);
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
    // Apps wait for their tenant; a tenant change wakes them.
    apps.watch(informers.tenants, tenant =>
      informers.apps
        .list(`${config.namespacePrefix}${tenant.metadata.name}`)
        .map(a => `${a.metadata.namespace}/${a.metadata.name}`),
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
    const check = (crd: KubeObject) => {
      if (!primed || !relevant.has(crd.metadata.name)) return;
      detectFeatures(this.client)
        .then(next => {
          const forced = this.options.features ?? {};
          const changed = (['capsule', 'cilium', 'knative'] as const).some(
            f => forced[f] === undefined && next[f] !== features[f],
          );
          if (changed) {
            this.logger.warn('optional CRDs changed; restarting controllers', {
              ...next,
            });
            this.onFeaturesChanged();
          }
        })
        .catch(() => {});
    };
    crdInformer.addHandlers({ add: check, delete: check });
    crdInformer.start();
    crdInformer.waitForSync().then(() => {
      primed = true;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.controllers.map(c => c.stop()));
    await Promise.all(this.informers.map(i => i.stop()));
    await this.crdInformer?.stop();
  }
}
