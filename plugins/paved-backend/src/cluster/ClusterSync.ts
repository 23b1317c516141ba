import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  FIELD_MANAGER_BACKEND,
  Plan,
  effectiveLimits,
  tenantNamespace,
} from '@paved/plugin-paved-common';
import type {
  AppRecord,
  PavedStore,
  TenantRecord,
} from '../database/PavedStore';
import { KubeClient, KubeError } from './KubeClient';
import {
  appPath,
  appResource,
  appSecretName,
  appSecretResource,
  secretPath,
  tenantPath,
  tenantResource,
} from './resources';

/** Runs one task per key at a time; later callers queue behind. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    this.tails.set(key, next);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key);
    }
  }
}

/** The result of one attempt to bring a row to the cluster. */
export type SyncOutcome = 'applied' | 'deleted' | 'behind' | 'skipped';

const NO_CLUSTER =
  'No cluster is configured (paved.kubernetes.kubeconfig, paved.kubernetes.inCluster or KUBECONFIG); saved, and applied once one is';

interface Attempt {
  outcome: SyncOutcome;
  /** The generation applied, when `applied`. */
  generation?: number;
}

/**
 * Brings the cluster in line with the database. A write saves its row (with
 * a bumped generation) first and then asks for a sync of that row; when the
 * API server is unreachable the row stays behind and the scheduled
 * {@link ClusterSync.syncAll} re-applies it until it succeeds.
 *
 * Each row is synced by one task at a time and always from the row as it is
 * now in the database, so a slow older apply cannot overwrite a newer one.
 */
export class ClusterSync {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly options: {
      store: PavedStore;
      /** Undefined when no cluster is configured: everything stays behind. */
      client?: KubeClient;
      plans: () => Plan[];
      namespacePrefix?: string;
      logger: LoggerService;
    },
  ) {}

  get configured() {
    return Boolean(this.options.client);
  }

  syncTenant(name: string): Promise<SyncOutcome> {
    return this.lock.run(`tenant:${name}`, () =>
      this.untilSettled(
        force => this.syncTenantNow(name, force),
        () => this.options.store.getTenant(name),
      ),
    );
  }

  syncApp(tenant: string, name: string): Promise<SyncOutcome> {
    return this.lock.run(`app:${tenant}/${name}`, () =>
      this.untilSettled(
        force => this.syncAppNow(tenant, name, force),
        () => this.options.store.getApp(tenant, name),
      ),
    );
  }

  /**
   * Applies, then reads the row again and applies once more if another
   * backend replica saved a newer generation meanwhile: that replica's apply
   * may have landed before ours, which was older (and it already recorded
   * its generation as applied, hence `force`). Bounded; the sync job and
   * the next write take over after that.
   */
  private async untilSettled(
    apply: (force: boolean) => Promise<Attempt>,
    read: () => Promise<{ generation: number; deleting: boolean } | undefined>,
  ): Promise<SyncOutcome> {
    let attempt = await apply(false);
    for (let round = 0; round < 3 && attempt.outcome === 'applied'; round++) {
      const row = await read();
      if (!row || row.deleting || row.generation <= attempt.generation!) break;
      attempt = await apply(true);
    }
    return attempt.outcome;
  }

  /** Re-applies every row that is behind: tenants first, then apps. */
  async syncAll(): Promise<{ applied: number; behind: number }> {
    const behind = await this.options.store.listBehind();
    let applied = 0;
    let stillBehind = 0;
    const count = (outcome: SyncOutcome) => {
      if (outcome === 'applied' || outcome === 'deleted') applied++;
      if (outcome === 'behind') stillBehind++;
    };
    for (const tenant of behind.tenants.filter(t => !t.deleting)) {
      count(await this.syncTenant(tenant.name));
    }
    for (const app of behind.apps) {
      count(await this.syncApp(app.tenant, app.name));
    }
    for (const tenant of behind.tenants.filter(t => t.deleting)) {
      count(await this.syncTenant(tenant.name));
    }
    return { applied, behind: stillBehind };
  }

  private async syncTenantNow(name: string, force: boolean): Promise<Attempt> {
    const { store, client } = this.options;
    const tenant = await store.getTenant(name);
    if (!tenant) return { outcome: 'skipped' };
    if (!client) {
      await store.markTenantFailed(name, NO_CLUSTER);
      return { outcome: 'behind' };
    }
    try {
      if (tenant.deleting) {
        await this.deleteIgnoringMissing(client, tenantPath(name));
        if (await this.isGone(client, tenantPath(name))) {
          await store.purgeTenant(name);
          return { outcome: 'deleted' };
        }
        // The operator is still cleaning up (finalizer); check next time.
        await store.markTenantApplied(name, tenant.generation);
        return { outcome: 'behind' };
      }
      if (!force && tenant.appliedGeneration >= tenant.generation) {
        return { outcome: 'skipped' };
      }
      await client.apply(
        tenantPath(name),
        tenantResource(tenant, this.limitsOf(tenant)),
        FIELD_MANAGER_BACKEND,
      );
      await store.markTenantApplied(name, tenant.generation);
      return { outcome: 'applied', generation: tenant.generation };
    } catch (error) {
      await this.recordFailure(`tenant ${name}`, error, message =>
        store.markTenantFailed(name, message),
      );
      return { outcome: 'behind' };
    }
  }

  private async syncAppNow(
    tenant: string,
    name: string,
    force: boolean,
  ): Promise<Attempt> {
    const { store, client, namespacePrefix } = this.options;
    const app = await store.getApp(tenant, name);
    if (!app) return { outcome: 'skipped' };
    if (!client) {
      await store.markAppFailed(tenant, name, NO_CLUSTER);
      return { outcome: 'behind' };
    }
    const namespace = tenantNamespace(tenant, namespacePrefix);
    try {
      if (app.deleting) {
        await this.deleteIgnoringMissing(client, appPath(namespace, name));
        await this.deleteIgnoringMissing(
          client,
          secretPath(namespace, appSecretName(name)),
        );
        await store.purgeApp(tenant, name);
        return { outcome: 'deleted' };
      }
      if (!force && app.appliedGeneration >= app.generation) {
        return { outcome: 'skipped' };
      }
      await this.applySecret(client, app, namespace);
      await client.apply(
        appPath(namespace, name),
        appResource(app, namespacePrefix),
        FIELD_MANAGER_BACKEND,
      );
      await store.markAppApplied(tenant, name, app.generation);
      return { outcome: 'applied', generation: app.generation };
    } catch (error) {
      await this.recordFailure(`app ${tenant}/${name}`, error, message =>
        store.markAppFailed(tenant, name, message),
      );
      return { outcome: 'behind' };
    }
  }

  private async applySecret(
    client: KubeClient,
    app: AppRecord,
    namespace: string,
  ) {
    const secrets = await this.options.store.getSecrets(app.tenant, app.name);
    const path = secretPath(namespace, appSecretName(app.name));
    if (secrets.size === 0) {
      if (app.secretApplied) {
        await this.deleteIgnoringMissing(client, path);
        await this.options.store.markSecretApplied(app.tenant, app.name, false);
      }
      return;
    }
    // Recorded before the apply: if the apply fails half-way, a later sync
    // still knows a Secret may exist.
    await this.options.store.markSecretApplied(app.tenant, app.name, true);
    await client.apply(
      path,
      appSecretResource(app, secrets, this.options.namespacePrefix),
      FIELD_MANAGER_BACKEND,
    );
  }

  private limitsOf(tenant: TenantRecord) {
    const plan = this.options.plans().find(p => p.name === tenant.plan);
    if (!plan) {
      throw new Error(
        `Tenant ${tenant.name} is on plan "${tenant.plan}", which is no longer in paved.plans`,
      );
    }
    return effectiveLimits(plan, tenant.limits);
  }

  private async deleteIgnoringMissing(client: KubeClient, path: string) {
    try {
      await client.request('DELETE', path);
    } catch (error) {
      if (!(error instanceof KubeError && error.code === 404)) throw error;
    }
  }

  private async isGone(client: KubeClient, path: string) {
    try {
      await client.request('GET', path);
      return false;
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return true;
      throw error;
    }
  }

  private async recordFailure(
    what: string,
    error: unknown,
    save: (message: string) => Promise<void>,
  ) {
    const message = error instanceof Error ? error.message : String(error);
    this.options.logger.warn(
      `Could not bring ${what} to the cluster; the sync job will retry: ${message}`,
    );
    try {
      await save(message);
    } catch (saveError) {
      this.options.logger.error(`Could not record the failure: ${saveError}`);
    }
  }
}
