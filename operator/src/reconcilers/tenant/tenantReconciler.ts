/**
 * TenantReconciler: a Tenant becomes the children of `TENANT_CHILDREN`
 * (namespace, quota, LimitRange, RBAC, network isolation); its status says
 * how far that got. Deleting a Tenant deletes its Apps first, then the
 * children in reverse order, the namespace last.
 */
import {
  FINALIZER_TENANT,
  TenantResource,
  tenantSpecSchema,
  TenantStatus,
} from '@paved/plugin-paved-common';
import { ReconcileResult, Reconciler } from '../../controller/controller';
import { APPS, KubeObject, RESOURCE_QUOTAS, TENANTS } from '@paved/kube';
import { condition, ConditionInput } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { RESOURCE_QUOTA } from '../../desired/names';
import { tenantLimits, UnknownPlanError } from '../../desired/quota';
import { tenantUsage } from '../../desired/tenantStatus';
import { reconcileChildren, removeChildren } from '../children';
import { ReconcileContext } from '../context';
import { addFinalizer, removeFinalizer } from '../finalizers';
import { SpecCache } from '../specCache';
import { writeOwnerStatus } from '../status';
import { TENANT_CHILDREN } from './children';

export class TenantReconciler implements Reconciler {
  private readonly specs = new SpecCache(tenantSpecSchema);

  constructor(private readonly ctx: ReconcileContext) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const object = this.ctx.informers.of(TENANTS).get(key);
    if (!object) return undefined;
    const tenant = object as unknown as TenantResource;
    if (tenant.metadata.deletionTimestamp) return this.finalize(tenant);

    const parsed = this.specs.parse(tenant);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      await this.status(tenant, 'Failed', [
        condition(
          tenant,
          'Ready',
          'False',
          'InvalidSpec',
          `${issue.path.join('.')}: ${issue.message}`,
        ),
      ]);
      return undefined;
    }
    const withFinalizer = (await addFinalizer(
      this.ctx.client,
      TENANTS,
      object,
      FINALIZER_TENANT,
    )) as unknown as TenantResource;
    const current: TenantResource = { ...withFinalizer, spec: parsed.data };

    const conditions: ConditionInput[] = [];
    try {
      const children = await reconcileChildren(
        TENANT_CHILDREN,
        this.ctx,
        current,
        conditions,
      );
      if (children.blocked) {
        const { reason, message } = children.blocked;
        conditions.push(
          condition(current, 'Ready', 'Unknown', reason, message),
        );
        await this.status(current, 'Pending', conditions);
        return { requeueAfterMs: this.ctx.pollMs };
      }
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof UnknownPlanError) {
        await this.status(current, 'Failed', [
          ...conditions,
          condition(current, 'QuotaReady', 'False', 'UnknownPlan', message),
          condition(current, 'Ready', 'False', 'UnknownPlan', message),
        ]);
        return undefined;
      }
      await this.status(current, 'Pending', [
        ...conditions,
        condition(current, 'Ready', 'Unknown', 'ApplyFailed', message),
      ]).catch(() => {});
      throw error;
    }
    const ns = namespaceName(current.metadata.name, this.ctx.config);
    conditions.push(
      condition(
        current,
        'Ready',
        'True',
        'Provisioned',
        `Namespace ${ns} is ready for apps`,
      ),
    );
    await this.status(current, 'Active', conditions);
    return undefined;
  }

  /** DESIGN.md's order: Apps, then the children in reverse, the namespace last. */
  private async finalize(
    tenant: TenantResource,
  ): Promise<ReconcileResult | void> {
    if (!tenant.metadata.finalizers?.includes(FINALIZER_TENANT))
      return undefined;
    const ns = namespaceName(tenant.metadata.name, this.ctx.config);
    const apps = this.ctx.informers.list(APPS, ns);
    if (apps.length > 0) {
      for (const app of apps) {
        if (!app.metadata.deletionTimestamp) {
          await this.ctx.client.delete(APPS, app.metadata.name, ns);
        }
      }
      // Said once, not again as each app goes (a status write per app).
      if (readyReason(tenant) !== 'DeletingApps') {
        await this.status(tenant, 'Deleting', [
          condition(
            tenant,
            'Ready',
            'False',
            'DeletingApps',
            'Waiting for its apps to be deleted',
          ),
        ]);
      }
      return { requeueAfterMs: this.ctx.pollMs * 4 };
    }
    const current = await this.status(tenant, 'Deleting', [
      condition(
        tenant,
        'Ready',
        'False',
        'DeletingNamespace',
        `Deleting namespace ${ns}`,
      ),
    ]);
    if (
      !(await removeChildren(TENANT_CHILDREN, this.ctx, tenant, {
        waitForEach: true,
      }))
    ) {
      return { requeueAfterMs: this.ctx.pollMs };
    }
    await removeFinalizer(this.ctx.client, TENANTS, current, FINALIZER_TENANT);
    this.ctx.statuses.forget(tenant);
    return undefined;
  }

  private async status(
    tenant: TenantResource,
    phase: TenantStatus['phase'],
    conditions: ConditionInput[],
  ): Promise<KubeObject> {
    const ns = namespaceName(tenant.metadata.name, this.ctx.config);
    const quota = this.ctx.informers.cached(
      RESOURCE_QUOTAS,
      RESOURCE_QUOTA,
      ns,
    );
    const appCount = this.ctx.informers.list(APPS, ns).length;
    let maxApps = 0;
    try {
      maxApps = tenantLimits(tenant, this.ctx.config).maxApps;
    } catch {
      // Unknown plan: reported in the conditions.
    }
    const usage = tenantUsage(quota, { used: appCount, hard: maxApps });
    return writeOwnerStatus(
      this.ctx,
      TENANTS,
      tenant,
      { phase, namespace: ns, appCount, usage },
      conditions,
    );
  }
}

/** The reason of the Tenant's Ready condition as the cache has it. */
function readyReason(tenant: TenantResource): string | undefined {
  const conditions = (tenant.status?.conditions ?? []) as Array<{
    type: string;
    reason?: string;
  }>;
  return conditions.find(c => c.type === 'Ready')?.reason;
}
