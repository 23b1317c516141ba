import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  APPS,
  KubeApiError,
  KubeClient,
  ResourceType,
  SECRETS,
  TENANTS,
} from '@paved/kube';
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
import {
  PAVED_SELECTOR,
  appResource,
  appSecretName,
  appSecretResource,
  isPavedObject,
  matchesDesired,
  secretKeysOf,
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
/** How long tenant events gather before their tenants are synced. */
const TENANT_SYNC_DELAY_MS = 500;
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

/**
 * The message a failed apply leaves on its row (`last_error`, shown in the
 * API and the UI): the request, the HTTP status and the API server's own
 * words, e.g. `PATCH /apis/…/apps/web?fieldManager=paved-backend&force=true:
 * 404 namespaces "tenant-acme" not found`; without a status when the API
 * server did not answer.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof KubeApiError && error.details) {
    const { method, path, detail } = error.details;
    return `${method} ${path}: ${error.code ? `${error.code} ` : ''}${detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const EMPTY_SUMMARY: SyncSummary = {
  applied: 0,
  behind: 0,
  repaired: 0,
  failed: 0,
  unknown: 0,
};

/** The rows and live objects one drift comparison looks at. */
interface DriftScope {
  tenantCrs: Map<string, Listed>;
  appCrs: Map<string, Listed>;
  secrets: Map<string, Listed>;
  tenants: TenantRecord[];
  apps: AppRecord[];
}

function byKey(items: Listed[]) {
  return new Map(
    items.map(item => [
      `${item.metadata.namespace ?? ''}/${item.metadata.name}`,
      item,
    ]),
  );
}

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
  /** Tenants whose phase changed, to sync with their apps. */
  private readonly tenantsToSync = new Set<string>();
  /** A tenant event that asks only for the rows behind. */
  private behindWanted = false;
  private tenantTimer?: NodeJS.Timeout;
  private tenantSyncing?: Promise<void>;

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
    const summary: SyncSummary = { ...EMPTY_SUMMARY, applied, behind };
    if (!client) return summary;
    const list = async (type: ResourceType, labelSelector?: string) =>
      byKey(
        (await client.list<Listed & { metadata: any }>(type, { labelSelector }))
          .items,
      );
    // The cluster first, then the database: a row saved meanwhile is
    // compared with an older CR and re-applied once more, which is harmless.
    const [tenantCrs, appCrs, secrets] = await Promise.all([
      list(TENANTS),
      list(APPS),
      list(SECRETS, PAVED_SELECTOR),
    ]);
    const [tenants, apps, pending] = await Promise.all([
      store.listTenants(),
      store.listApps(),
      store.listBehind(),
    ]);
    await this.repairDrift(
      { tenantCrs, appCrs, secrets, tenants, apps },
      summary,
    );
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
   * {@link ClusterSync.syncAll} for one tenant: its rows that are behind,
   * then its Tenant CR, its Apps and their Secrets compared with the
   * database and re-applied where missing or changed. Reads only that
   * tenant's objects (a GET of the Tenant, a LIST of Apps and of Paved's
   * Secrets in its namespace), so a tenant's event costs what the tenant
   * has, not what the cluster has.
   */
  async syncTenantAndApps(name: string): Promise<SyncSummary> {
    const { store, client, namespacePrefix } = this.options;
    const summary: SyncSummary = { ...EMPTY_SUMMARY };
    const count = (outcome: SyncOutcome) => {
      if (outcome === 'applied' || outcome === 'deleted') summary.applied++;
      if (outcome === 'behind') summary.behind++;
    };
    const pending = await store.listBehind();
    const tenantRow = pending.tenants.find(t => t.name === name);
    if (tenantRow && !tenantRow.deleting) count(await this.syncTenant(name));
    for (const app of pending.apps.filter(a => a.tenant === name)) {
      count(await this.syncApp(app.tenant, app.name));
    }
    if (tenantRow?.deleting) {
      count(await this.syncTenant(name));
      return summary;
    }
    if (!client) return summary;
    const namespace = tenantNamespace(name, namespacePrefix);
    const [tenantCr, appList, secretList] = await Promise.all([
      client.tryGet<Listed & { metadata: any }>(TENANTS, name),
      client.list<Listed & { metadata: any }>(APPS, { namespace }),
      client.list<Listed & { metadata: any }>(SECRETS, {
        namespace,
        labelSelector: PAVED_SELECTOR,
      }),
    ]);
    const [tenant, apps] = await Promise.all([
      store.getTenant(name),
      store.listApps({ tenant: name }),
    ]);
    if (!tenant) return summary;
    await this.repairDrift(
      {
        tenantCrs: byKey(tenantCr ? [tenantCr] : []),
        appCrs: byKey(appList.items),
        secrets: byKey(secretList.items),
        tenants: tenant.deleting ? [] : [tenant],
        apps,
      },
      summary,
    );
    return summary;
  }

  /**
   * Re-applies, with force, each row in step with the database whose CR is
   * missing or differs from what the backend would apply (the plan's
   * current limits included), or whose Secret is missing or lacks a key.
   */
  private async repairDrift(scope: DriftScope, summary: SyncSummary) {
    const { store, namespacePrefix } = this.options;
    const { tenantCrs, appCrs, secrets, tenants, apps } = scope;
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
      // tenant's phase change (or the next run) applies the app.
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
   * What the status cache reports, acted on:
   *
   * - the quick repair: a Tenant or App deleted, or changed in more than its
   *   status, is compared with its row shortly after and re-applied when it
   *   drifted. Events of a (re-)list are left to the scheduled full
   *   reconciliation.
   * - a tenant whose phase changed (it turned Active: its namespace exists
   *   now) is synced with its apps, {@link ClusterSync.syncTenantAndApps}:
   *   after a rebuilt cluster its apps are missing, not behind, and nothing
   *   else would apply them before the next full run. Any other tenant event
   *   syncs the rows that are behind.
   */
  handleChange(change: Change): void {
    if (this.closed || !this.options.client) return;
    if (change.kind === 'tenant') this.noteTenantChange(change);
    if (change.event === 'listed' || !ownedFieldsChanged(change)) return;
    const key =
      change.kind === 'tenant'
        ? `tenant:${change.name}`
        : `app:${change.namespace}/${change.name}`;
    this.queued.set(key, change);
    this.scheduleRepair();
  }

  private noteTenantChange(change: Change & { kind: 'tenant' }) {
    if (
      change.event !== 'listed' &&
      change.resource.status?.phase !== change.previous?.status?.phase
    ) {
      this.tenantsToSync.add(change.name);
    } else {
      this.behindWanted = true;
    }
    this.scheduleTenantSync();
  }

  private scheduleTenantSync() {
    if (this.tenantTimer || this.tenantSyncing || this.closed) return;
    this.tenantTimer = setTimeout(() => {
      this.tenantTimer = undefined;
      const tenants = [...this.tenantsToSync];
      const behind = this.behindWanted;
      this.tenantsToSync.clear();
      this.behindWanted = false;
      const warn = (error: unknown) =>
        this.options.logger.warn(`Sync failed: ${error}`);
      this.tenantSyncing = (async () => {
        await inParallel(tenants, REPAIR_CONCURRENCY, name =>
          this.syncTenantAndApps(name).then(() => undefined, warn),
        );
        // Those tenants' rows behind were just synced; any others are the
        // other events' (and the scheduled sync's) concern.
        if (behind) await this.syncBehind().then(() => undefined, warn);
      })().finally(() => {
        this.tenantSyncing = undefined;
        if (this.tenantsToSync.size || this.behindWanted) {
          this.scheduleTenantSync();
        }
      });
    }, TENANT_SYNC_DELAY_MS);
    this.tenantTimer.unref?.();
  }

  /** Stops the quick repair and the tenant syncs, and waits for what is in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tenantTimer) clearTimeout(this.tenantTimer);
    this.tenantTimer = undefined;
    this.queued.clear();
    this.tenantsToSync.clear();
    await this.tenantSyncing;
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
        await client.delete(TENANTS, name);
        if (!(await client.tryGet(TENANTS, name))) {
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
        TENANTS,
        tenantResource(tenant, this.limitsOf(tenant)),
        {
          fieldManager: FIELD_MANAGER_BACKEND,
        },
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
        await client.delete(APPS, name, namespace);
        await client.delete(SECRETS, appSecretName(name), namespace);
        await store.purgeApp(tenant, name);
        return { outcome: 'deleted' };
      }
      if (!force && app.appliedGeneration >= app.generation) {
        return { outcome: 'skipped' };
      }
      await this.applySecret(client, app, namespace);
      await client.apply(APPS, appResource(app, namespacePrefix), {
        fieldManager: FIELD_MANAGER_BACKEND,
      });
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
    if (secrets.size === 0) {
      if (app.secretApplied) {
        await client.delete(SECRETS, appSecretName(app.name), namespace);
        await this.options.store.markSecretApplied(app.tenant, app.name, false);
      }
      return;
    }
    // Recorded before the apply: if the apply fails half-way, a later sync
    // still knows a Secret may exist.
    await this.options.store.markSecretApplied(app.tenant, app.name, true);
    await client.apply(
      SECRETS,
      appSecretResource(app, secrets, this.options.namespacePrefix),
      { fieldManager: FIELD_MANAGER_BACKEND },
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
    const message = describeFailure(error);
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
