/**
 * The operator: leader election, then informers and the Tenant and App
 * controllers while this instance leads; health and metrics all along.
 */
import * as os from 'node:os';
import { HealthServer } from './controller/healthServer';
import { LeaderElector, Logger, noopLogger, KubeClient } from '@paved/kube';
import { OperatorMetrics } from './controller/metrics';
import { LeaderSession } from './leaderSession';
import { OperatorOptions } from './options';
import { ReconcileContext } from './reconcilers/context';

export { detectFeatures } from '@paved/kube';
export type { OperatorOptions } from './options';

export class Operator {
  readonly metrics: OperatorMetrics;
  readonly identity: string;
  private readonly logger: Logger;
  private readonly elector?: LeaderElector;
  private readonly health?: HealthServer;
  private running: Promise<void> | undefined;
  private session: LeaderSession | undefined;
  metricsPortBound: number | undefined;
  /** Leader sessions that failed to start in a row (reset by one that does). */
  sessionFailures = 0;
  private stopping = false;

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
    client.onRequest = (method, path) =>
      this.metrics.apiRequests.inc({ method, resource: resourceOf(path) });
    const host = new URL(client.serverUrl).host;
    client.onResponse = (method, code) =>
      this.metrics.restClientRequests.inc({ code, method, host });
    this.identity =
      options.leaderElection?.identity ??
      `${os.hostname()}-${process.pid}-${Math.random()
        .toString(36)
        .slice(2, 8)}`;
    if (options.leaderElection) {
      this.leaderStatus(0);
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

  /**
   * Resolves once `controller` ('tenant' or 'app') has finished a reconcile
   * of `key` that started after this call: a barrier for tests asserting
   * that something did not happen. Rejects when none finishes in time.
   */
  reconciled(
    controller: 'tenant' | 'app',
    key: string,
    timeoutMs = 60_000,
  ): Promise<void> {
    const target = this.session?.controllers.find(c => c.name === controller);
    if (!target) {
      return Promise.reject(
        new Error(`no ${controller} controller running: not leading`),
      );
    }
    const after = target.reconcilesStarted;
    return new Promise((resolve, reject) => {
      const pending: { timer?: NodeJS.Timeout } = {};
      const unsubscribe = target.onReconciled((done, started) => {
        if (done !== key || started <= after) return;
        clearTimeout(pending.timer);
        unsubscribe();
        resolve();
      });
      pending.timer = setTimeout(() => {
        unsubscribe();
        reject(
          new Error(`${controller} ${key} not reconciled in ${timeoutMs} ms`),
        );
      }, timeoutMs);
    });
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
    this.stopping = true;
    if (this.elector) {
      await this.elector.stop({ release: options.releaseLease !== false });
    }
    await this.unlead();
    await this.health?.stop();
    this.client.close();
  }

  /** `leader_election_master_status` of the lease, where there is one. */
  private leaderStatus(value: 0 | 1): void {
    const lease = this.options.leaderElection?.name;
    if (lease) this.metrics.leaderStatus.set({ name: lease }, value);
  }

  private lead(): void {
    if (this.session || this.stopping) return;
    this.leaderStatus(1);
    const session = new LeaderSession(
      this.client,
      this.options,
      this.metrics,
      this.logger,
      // New watches for the new set of APIs: a fresh session.
      () => this.relead(0),
    );
    this.session = session;
    this.running = session.start().then(
      () => {
        this.sessionFailures = 0;
      },
      error => {
        this.sessionFailures += 1;
        const delayMs = Math.min(30_000, 500 * 2 ** (this.sessionFailures - 1));
        this.logger.error(
          `operator failed to start: ${
            (error as Error).message
          }; starting a new session in ${delayMs} ms`,
        );
        // Not awaited here: unlead() awaits this very promise.
        setTimeout(() => {
          if (this.session === session) this.relead(0);
        }, delayMs).unref();
      },
    );
  }

  /** Stops the current session and starts a new one (if still leading) after `delayMs`. */
  private relead(delayMs: number): void {
    this.unlead()
      .then(() => new Promise(r => setTimeout(r, delayMs)))
      .then(() => {
        if (!this.elector || this.elector.isLeader) this.lead();
      })
      .catch(error =>
        this.logger.error(`restart failed: ${(error as Error).message}`),
      );
  }

  private async unlead(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    this.leaderStatus(0);
    // Stopping first also releases a start() still waiting for caches.
    await session.stop();
    await this.running;
  }
}

/** The resource (plural, with subresource) of an API path, for metric labels. */
function resourceOf(path: string): string {
  const parts = path.split('?')[0].split('/').filter(Boolean);
  // /api/v1[/namespaces/ns]/plural[/name[/sub]] or /apis/group/version/...
  const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest.splice(0, 2);
  return rest.length > 2 ? `${rest[0]}/${rest[2]}` : rest[0] ?? '';
}
