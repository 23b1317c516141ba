import { ChangeHandler } from './changes';
import { BehindRetry } from './BehindRetry';
import { ClusterApplier } from './ClusterApplier';
import { DriftReconciler } from './drift';
import type { Change } from './StatusCache';
import type { AppRecord } from '../database/PavedStore';
import type {
  Attempt,
  ClusterSyncOptions,
  SyncOutcome,
  SyncSummary,
} from './syncSupport';

export { PlanNotOfferedError, describeFailure } from './syncSupport';
export type {
  ClusterSyncOptions,
  SyncOutcome,
  SyncSummary,
} from './syncSupport';

/**
 * Brings the cluster in line with the database. A write saves its row (with
 * a bumped generation) first and then asks for a sync of that row; when the
 * API server is unreachable the row stays behind and the scheduled
 * {@link ClusterSync.syncAll} re-applies it until it succeeds.
 *
 * Each row is synced by one task at a time and always from the row as it is
 * now in the database, so a slow older apply cannot overwrite a newer one.
 *
 * The work is done by three parts: {@link ClusterApplier} (writing rows to
 * the cluster), {@link DriftReconciler} (the full sync and drift repair) and
 * {@link ChangeHandler} (watch changes and the quick repair).
 */
export class ClusterSync {
  private readonly applier: ClusterApplier;
  private readonly drift: DriftReconciler;
  private readonly changes: ChangeHandler;
  private readonly retry: BehindRetry;

  constructor(private readonly options: ClusterSyncOptions) {
    this.retry = new BehindRetry(
      () => this.applier.syncBehind(),
      message => options.logger.warn(message),
    );
    this.applier = new ClusterApplier({
      ...options,
      onApplyFailed: () => this.retry.wanted(),
    });
    this.drift = new DriftReconciler(options, this.applier);
    this.changes = new ChangeHandler(options, this.applier, this.drift);
  }

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
    return this.applier.syncTenant(name, options);
  }

  /** Like {@link ClusterSync.syncTenant}, for an app (and its Secret). */
  syncApp(
    tenant: string,
    name: string,
    options?: { force?: boolean },
  ): Promise<SyncOutcome> {
    return this.applier.syncApp(tenant, name, options);
  }

  /** {@link ClusterSync.syncApp}, with the row as the sync left it when it knows it. */
  syncAppWithRow(tenant: string, name: string): Promise<Attempt<AppRecord>> {
    return this.applier.syncAppWithRow(tenant, name);
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
    return this.drift.syncAll();
  }

  /**
   * {@link ClusterSync.syncAll} for one tenant: its rows that are behind,
   * then its Tenant CR, its Apps and their Secrets compared with the
   * database and re-applied where missing or changed. Reads only that
   * tenant's objects, so a tenant's event costs what the tenant has, not
   * what the cluster has.
   */
  syncTenantAndApps(name: string): Promise<SyncSummary> {
    return this.drift.syncTenantAndApps(name);
  }

  /**
   * What the status cache reports, acted on: the quick repair of a Tenant
   * or App deleted or changed in more than its status, and the sync of a
   * tenant whose phase changed with its apps (any other tenant event syncs
   * the rows behind). See {@link ChangeHandler.handleChange}.
   */
  handleChange(change: Change): void {
    this.changes.handleChange(change);
  }

  /** Re-applies every row that is behind: tenants first, then apps. */
  syncBehind(): Promise<{ applied: number; behind: number }> {
    return this.applier.syncBehind();
  }

  /** Stops the quick repair and the tenant syncs, and waits for what is in flight. */
  async close(): Promise<void> {
    await this.retry.close();
    await this.changes.close();
    await this.drift.settle();
  }
}
