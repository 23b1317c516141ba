import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  DEFAULT_NAMESPACE_PREFIX,
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
  ALL_APPS_PATH,
  PAVED_SECRETS_PATH,
  TENANTS_PATH,
  appPath,
  appResource,
  appSecretName,
  appSecretResource,
  isPavedObject,
  matchesDesired,
  secretKeysOf,
  secretPath,
  tenantPath,
  tenantResource,
} from './resources';
import type { Change } from './StatusCache';

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

/** What one run of {@link ClusterSync.syncAll} did. */
export interface SyncSummary {
  /** Rows behind (or deleting) that were applied (or deleted). */
  applied: number;
  /** Rows still behind after the run. */
  behind: number;
  /** Rows in step with the database whose CR was missing or changed, re-applied. */
  repaired: number;
  /** Of those, re-applies that failed (retried next run). */
  failed: number;
  /** CRs with Paved's labels the database does not know (left alone). */
  unknown: number;
}

/**
 * A tenant whose plan is no longer in `paved.plans`: the tenant keeps what
 * the cluster has, and the error says what to do.
 */
export class PlanNotOfferedError extends Error {
  constructor(tenant: TenantRecord, offered: string[]) {
    super(
      `Plan "${
        tenant.plan
      }" is no longer offered (paved.plans); move the tenant to one of ${offered.join(
        ', ',
      )}, or add the plan back to paved.plans. The cluster keeps the limits it was last given.`,
    );
    this.name = 'PlanNotOfferedError';
  }
}

/** How long watch events gather before the quick repair looks at them. */
const REPAIR_DELAY_MS = 100;
/**
 * Quick repairs of one object allowed per window: one that is changed again
 * each time it is put back (a mutating webhook or another controller owning
 * the same field) is left to the scheduled sync instead of a tight loop.
 */
const QUICK_REPAIR_BURST = 5;
const QUICK_REPAIR_WINDOW_MS = 60_000;
/** Re-applies in flight at once during a full reconciliation. */
const REPAIR_CONCURRENCY = 8;

type Listed = { metadata: any; spec?: any; data?: Record<string, string> };

async function inParallel<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

/** True when more than status changed: spec (metadata.generation), labels or annotations. */
function ownedFieldsChanged(change: Change) {
  if (change.event !== 'modified') return true;
  const before = change.previous?.metadata;
  const after = change.resource.metadata;
  return (
    !before ||
    before.generation !== after.generation ||
    JSON.stringify(before.labels ?? {}) !==
      JSON.stringify(after.labels ?? {}) ||
    JSON.stringify(before.annotations ?? {}) !==
      JSON.stringify(after.annotations ?? {})
  );
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
  /** Last failure logged per row, so a failure that repeats is logged once. */
  private readonly reported = new Map<string, string>();
  /** CRs with Paved's labels unknown to the database, logged once each. */
  private readonly unknownReported = new Set<string>();
  private readonly queued = new Map<string, Change>();
  private timer?: NodeJS.Timeout;
  private repairing?: Promise<void>;
  private running?: Promise<SyncSummary>;
  private rerun?: Promise<SyncSummary>;
  private closed = false;
  /** When each object was last quick-repaired, to notice a fight. */
  private readonly quickRepairs = new Map<string, number[]>();
  private readonly fightsReported = new Set<string>();

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

  /**
   * Brings one tenant to the cluster if it is behind; with `force`, applies
   * it even when it is not (drift repair: the CR was deleted or edited).
   */
  syncTenant(
    name: string,
    options?: { force?: boolean },
  ): Promise<SyncOutcome> {
    return this.lock.run(`tenant:${name}`, () =>
      this.untilSettled(
        force => this.syncTenantNow(name, force || Boolean(options?.force)),
        () => this.options.store.getTenant(name),
      ),
    );
  }

  /** Like {@link ClusterSync.syncTenant}, for an app (and its Secret). */
  syncApp(
    tenant: string,
    name: string,
    options?: { force?: boolean },
  ): Promise<SyncOutcome> {
    return this.lock.run(`app:${tenant}/${name}`, () =>
      this.untilSettled(
        force =>
          this.syncAppNow(tenant, name, force || Boolean(options?.force)),
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

  /**
   * The scheduled full reconciliation: re-applies every row that is behind
   * ({@link ClusterSync.syncBehind}), then compares every live row with the
   * cluster (one LIST each of Tenants, Apps and Paved's Secrets) and
   * re-applies, with force, each row whose CR is missing or differs from
   * what the backend would apply (the plan's current limits included), or
   * whose Secret is missing or lacks a key. One run at a time; calls during
   * a run share the one run after it.
   */
  syncAll(): Promise<SyncSummary> {
    if (this.running) {
      // What changed since the running one listed is seen by the next run,
      // which every call made meanwhile shares.
      this.rerun ??= this.running
        .catch(() => undefined)
        .then(() => {
          this.rerun = undefined;
          return this.syncAll();
        });
      return this.rerun;
    }
    this.running = this.reconcile().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reconcile(): Promise<SyncSummary> {
    const { store, client, namespacePrefix } = this.options;
    const { applied, behind } = await this.syncBehind();
    const summary: SyncSummary = {
      applied,
      behind,
      repaired: 0,
      failed: 0,
      unknown: 0,
    };
    if (!client) return summary;
    const list = async (path: string) =>
      (await client.request<{ items: Listed[] }>('GET', path)).items;
    const byKey = (items: Listed[]) =>
      new Map(
        items.map(item => [
          `${item.metadata.namespace ?? ''}/${item.metadata.name}`,
          item,
        ]),
      );
    // The cluster first, then the database: a row saved meanwhile is
    // compared with an older CR and re-applied once more, which is harmless.
    const [tenantCrs, appCrs, secrets] = await Promise.all([
      list(TENANTS_PATH).then(byKey),
      list(ALL_APPS_PATH).then(byKey),
      list(PAVED_SECRETS_PATH).then(byKey),
    ]);
    const [tenants, apps, pending] = await Promise.all([
      store.listTenants(),
      store.listApps(),
      store.listBehind(),
    ]);
    const inStep = (row: { generation: number; appliedGeneration: number }) =>
      row.appliedGeneration >= row.generation;

    const tenantRepairs: TenantRecord[] = [];
    const recreatedTenants = new Set<string>();
    for (const tenant of tenants) {
      if (!inStep(tenant)) continue; // syncBehind's, and the writes', job
      const live = tenantCrs.get(`/${tenant.name}`);
      if (live?.metadata.deletionTimestamp) continue; // re-created once gone
      let desired;
      try {
        desired = tenantResource(tenant, this.limitsOf(tenant));
      } catch (error) {
        await this.recordFailure(
          `tenant:${tenant.name}`,
          `tenant ${tenant.name}`,
          error,
          message => store.markTenantFailed(tenant.name, message),
          tenant.lastError,
        );
        continue;
      }
      if (!live) recreatedTenants.add(tenant.name);
      if (!live || !matchesDesired(live, desired) || tenant.lastError) {
        tenantRepairs.push(tenant);
      }
    }

    const appRepairs: AppRecord[] = [];
    for (const app of apps) {
      if (!inStep(app)) continue;
      // Its namespace comes from the operator once the Tenant is back; the
      // next run (or the tenant's phase change) applies the app.
      if (recreatedTenants.has(app.tenant)) continue;
      const namespace = tenantNamespace(app.tenant, namespacePrefix);
      const live = appCrs.get(`${namespace}/${app.name}`);
      if (live?.metadata.deletionTimestamp) continue;
      const keys = secretKeysOf(app);
      const secret = secrets.get(`${namespace}/${appSecretName(app.name)}`);
      const secretDrift =
        keys.length > 0 &&
        (!secret || keys.some(key => secret.data?.[key] === undefined));
      if (
        !live ||
        !matchesDesired(live, appResource(app, namespacePrefix)) ||
        secretDrift ||
        app.lastError
      ) {
        appRepairs.push(app);
      }
    }

    const count = (outcome: SyncOutcome) => {
      if (outcome === 'applied') summary.repaired++;
      else if (outcome === 'behind') summary.failed++;
    };
    await inParallel(tenantRepairs, REPAIR_CONCURRENCY, async tenant => {
      this.options.logger.debug(
        `Drift: re-applying Tenant ${tenant.name} from the database`,
      );
      count(await this.syncTenant(tenant.name, { force: true }));
    });
    await inParallel(appRepairs, REPAIR_CONCURRENCY, async app => {
      this.options.logger.debug(
        `Drift: re-applying App ${app.tenant}/${app.name} from the database`,
      );
      count(await this.syncApp(app.tenant, app.name, { force: true }));
    });
    if (tenantRepairs.length || appRepairs.length) {
      this.options.logger.info(
        `Drift repair: ${tenantRepairs.length} Tenants and ${appRepairs.length} Apps were missing or changed in the cluster; ${summary.repaired} re-applied, ${summary.failed} failed (retried next run)`,
      );
    }

    summary.unknown = this.noteUnknown(
      tenantCrs,
      appCrs,
      new Set([
        ...tenants.map(t => t.name),
        ...pending.tenants.map(t => t.name),
      ]),
      new Set(
        [...apps, ...pending.apps].map(
          a => `${tenantNamespace(a.tenant, namespacePrefix)}/${a.name}`,
        ),
      ),
    );
    return summary;
  }

  /**
   * CRs with Paved's labels that the database does not know (created by
   * hand, or left by another backend's database) are left alone: deleting a
   * Tenant deletes its namespace and workloads, and a database restored from
   * an older backup must not take running tenants with it. Logged once each.
   */
  private noteUnknown(
    tenantCrs: Map<string, Listed>,
    appCrs: Map<string, Listed>,
    tenants: Set<string>,
    apps: Set<string>,
  ): number {
    const unknown = new Set<string>();
    for (const [key, cr] of tenantCrs) {
      if (isPavedObject(cr) && !cr.metadata.deletionTimestamp) {
        if (!tenants.has(cr.metadata.name))
          unknown.add(`Tenant ${key.slice(1)}`);
      }
    }
    for (const [key, cr] of appCrs) {
      if (isPavedObject(cr) && !cr.metadata.deletionTimestamp) {
        if (!apps.has(key)) unknown.add(`App ${key}`);
      }
    }
    for (const what of unknown) {
      if (this.unknownReported.has(what)) continue;
      this.unknownReported.add(what);
      this.options.logger.warn(
        `${what} carries Paved's labels but is not in Paved's database; left alone (delete it by hand if nobody needs it)`,
      );
    }
    for (const what of this.unknownReported) {
      if (!unknown.has(what)) this.unknownReported.delete(what);
    }
    return unknown.size;
  }

  /**
   * The quick repair: the status cache reports each Tenant and App it sees
   * change; one deleted, or changed in more than its status, is compared
   * with its row shortly after and re-applied when it drifted. Events of a
   * (re-)list are left to the scheduled full reconciliation.
   */
  handleChange(change: Change): void {
    if (this.closed || !this.options.client) return;
    if (change.event === 'listed' || !ownedFieldsChanged(change)) return;
    const key =
      change.kind === 'tenant'
        ? `tenant:${change.name}`
        : `app:${change.namespace}/${change.name}`;
    this.queued.set(key, change);
    this.scheduleRepair();
  }

  /** Stops the quick repair and waits for what is in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queued.clear();
    await this.repairing;
    await this.running?.catch(() => undefined);
    await this.rerun?.catch(() => undefined);
  }

  private scheduleRepair() {
    if (this.timer || this.repairing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const changes = [...this.queued.values()];
      this.queued.clear();
      this.repairing = inParallel(changes, REPAIR_CONCURRENCY, change =>
        this.repair(change).catch(error =>
          this.options.logger.warn(`Drift repair failed: ${error}`),
        ),
      ).finally(() => {
        this.repairing = undefined;
        if (this.queued.size) this.scheduleRepair();
      });
    }, REPAIR_DELAY_MS);
    this.timer.unref?.();
  }

  /** False (and a warning, once) when `key` was quick-repaired too often lately. */
  private mayQuickRepair(key: string, what: string) {
    const now = Date.now();
    const recent = (this.quickRepairs.get(key) ?? []).filter(
      at => now - at < QUICK_REPAIR_WINDOW_MS,
    );
    if (recent.length >= QUICK_REPAIR_BURST) {
      this.quickRepairs.set(key, recent);
      if (!this.fightsReported.has(key)) {
        this.fightsReported.add(key);
        this.options.logger.warn(
          `${what} was changed in the cluster again each time it was put back (${
            recent.length
          } times in ${
            QUICK_REPAIR_WINDOW_MS / 1000
          } s): is another controller or a mutating webhook changing the fields Paved sets? It is now re-applied by the scheduled sync only`,
        );
      }
      return false;
    }
    recent.push(now);
    this.quickRepairs.set(key, recent);
    if (recent.length === 1) this.fightsReported.delete(key);
    if (this.quickRepairs.size > 10_000) {
      for (const [k, times] of this.quickRepairs) {
        if (now - times[times.length - 1] >= QUICK_REPAIR_WINDOW_MS) {
          this.quickRepairs.delete(k);
        }
      }
    }
    return true;
  }

  private async repair(change: Change) {
    const { store, namespacePrefix } = this.options;
    const deleted = change.event === 'deleted';
    if (!deleted && change.resource.metadata.deletionTimestamp) return;
    if (change.kind === 'tenant') {
      const tenant = await store.getTenant(change.name);
      if (!tenant) return;
      // A deleting row finishes its deletion; one behind is being applied.
      if (tenant.deleting || tenant.appliedGeneration < tenant.generation) {
        if (deleted) await this.syncTenant(tenant.name);
        return;
      }
      if (!deleted) {
        let desired;
        try {
          desired = tenantResource(tenant, this.limitsOf(tenant));
        } catch {
          return; // the full reconciliation records why
        }
        if (matchesDesired(change.resource, desired)) return;
      }
      if (
        !this.mayQuickRepair(`tenant:${tenant.name}`, `Tenant ${tenant.name}`)
      ) {
        return;
      }
      this.options.logger.info(
        `Tenant ${tenant.name} was ${
          deleted ? 'deleted' : 'changed'
        } in the cluster; re-applying it from the database`,
      );
      await this.syncTenant(tenant.name, { force: true });
      return;
    }
    const prefix = namespacePrefix ?? DEFAULT_NAMESPACE_PREFIX;
    if (!change.namespace.startsWith(prefix)) return;
    const tenantName = change.namespace.slice(prefix.length);
    const app = await store.getApp(tenantName, change.name);
    if (!app) return;
    if (app.deleting || app.appliedGeneration < app.generation) {
      if (deleted) await this.syncApp(app.tenant, app.name);
      return;
    }
    if (
      !deleted &&
      matchesDesired(change.resource, appResource(app, namespacePrefix))
    ) {
      return;
    }
    const ref = `${app.tenant}/${app.name}`;
    if (!this.mayQuickRepair(`app:${ref}`, `App ${ref}`)) return;
    this.options.logger.info(
      `App ${app.tenant}/${app.name} was ${
        deleted ? 'deleted' : 'changed'
      } in the cluster; re-applying it from the database`,
    );
    await this.syncApp(app.tenant, app.name, { force: true });
  }

  /** Re-applies every row that is behind: tenants first, then apps. */
  async syncBehind(): Promise<{ applied: number; behind: number }> {
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
      this.reported.delete(`tenant:${name}`);
      return { outcome: 'applied', generation: tenant.generation };
    } catch (error) {
      await this.recordFailure(
        `tenant:${name}`,
        `tenant ${name}`,
        error,
        message => store.markTenantFailed(name, message),
        tenant.lastError,
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
      this.reported.delete(`app:${tenant}/${name}`);
      return { outcome: 'applied', generation: app.generation };
    } catch (error) {
      await this.recordFailure(
        `app:${tenant}/${name}`,
        `app ${tenant}/${name}`,
        error,
        message => store.markAppFailed(tenant, name, message),
        app.lastError,
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
    const plans = this.options.plans();
    const plan = plans.find(p => p.name === tenant.plan);
    if (!plan) {
      throw new PlanNotOfferedError(
        tenant,
        plans.map(p => p.name),
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

  /**
   * Logs a failure once per change of its message (a failure that repeats
   * every run is logged at debug level) and saves it as the row's
   * `last_error`, unless the row already says so.
   */
  private async recordFailure(
    key: string,
    what: string,
    error: unknown,
    save: (message: string) => Promise<void>,
    saved?: string,
  ) {
    const message = error instanceof Error ? error.message : String(error);
    const line = `Could not bring ${what} to the cluster; the sync job will retry: ${message}`;
    if (this.reported.get(key) === message) {
      this.options.logger.debug(line);
    } else {
      this.reported.set(key, message);
      this.options.logger.warn(line);
    }
    if (saved === message) return;
    try {
      await save(message);
    } catch (saveError) {
      this.options.logger.error(`Could not record the failure: ${saveError}`);
    }
  }
}
