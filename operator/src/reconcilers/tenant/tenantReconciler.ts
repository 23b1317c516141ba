/**
 * TenantReconciler: a Tenant becomes a namespace with RBAC, network isolation
 * and a quota; its status says how far that got. Deleting a Tenant deletes
 * its Apps first, then the children in reverse order, then the namespace.
 */
import {
  Condition,
  FINALIZER_TENANT,
  TenantResource,
  tenantSpecSchema,
  TenantStatus,
} from '@paved/plugin-paved-common';
import { ReconcileResult, Reconciler } from '../../controller/controller';
import { APPS, KubeObject, TENANTS } from '@paved/kube';
import { ConditionInput, setConditions } from '../../desired/conditions';
import { namespaceName } from '../../desired/namespace';
import { RESOURCE_QUOTA } from '../../desired/names';
import { tenantLimits, UnknownPlanError } from '../../desired/quota';
import { tenantUsage } from '../../desired/tenantStatus';
import { ReconcileContext, cached } from '../context';
import { addFinalizer, removeFinalizer } from '../finalizers';
import { SpecCache } from '../specCache';
import { writeStatus } from '../status';
import { deleteNamespace, reconcileNamespace } from './namespace';
import { deleteNetworkPolicy, reconcileNetworkPolicy } from './networkPolicy';
import { deleteQuota, reconcileQuota } from './quota';
import { deleteRbac, reconcileRbac } from './rbac';

export class TenantReconciler implements Reconciler {
  private readonly specs = new SpecCache(tenantSpecSchema);

  constructor(private readonly ctx: ReconcileContext) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const object = this.ctx.informers.tenants.get(key);
    if (!object) return undefined;
    const tenant = object as unknown as TenantResource;
    if (tenant.metadata.deletionTimestamp) return this.finalize(tenant);

    const parsed = this.specs.parse(tenant);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      await this.status(tenant, 'Failed', [
        failed(
          'Ready',
          'InvalidSpec',
          `${issue.path.join('.')}: ${issue.message}`,
          tenant,
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
      const ns = await reconcileNamespace(this.ctx, current);
      conditions.push(ns);
      if (ns.status !== 'True') {
        conditions.push(
          failed('Ready', ns.reason, ns.message, current, 'Unknown'),
        );
        await this.status(current, 'Pending', conditions);
        return { requeueAfterMs: this.ctx.pollMs };
      }
      // Independent of each other once the namespace exists.
      conditions.push(
        ...(await Promise.all([
          reconcileRbac(this.ctx, current),
          reconcileNetworkPolicy(this.ctx, current),
          reconcileQuota(this.ctx, current),
        ])),
      );
    } catch (error) {
      if (error instanceof UnknownPlanError) {
        conditions.push(
          failed('QuotaReady', 'UnknownPlan', error.message, current),
        );
        conditions.push(failed('Ready', 'UnknownPlan', error.message, current));
        await this.status(current, 'Failed', conditions);
        return undefined;
      }
      conditions.push(
        failed(
          'Ready',
          'ApplyFailed',
          (error as Error).message,
          current,
          'Unknown',
        ),
      );
      await this.status(current, 'Pending', conditions).catch(() => {});
      throw error;
    }
    conditions.push({
      type: 'Ready',
      status: 'True',
      reason: 'Provisioned',
      message: `Namespace ${namespaceName(
        current.metadata.name,
        this.ctx.config,
      )} is ready for apps`,
      observedGeneration: current.metadata.generation,
    });
    await this.status(current, 'Active', conditions);
    return undefined;
  }

  /** DESIGN.md's order: Apps, network policy, RBAC, quota, namespace. */
  private async finalize(
    tenant: TenantResource,
  ): Promise<ReconcileResult | void> {
    if (!tenant.metadata.finalizers?.includes(FINALIZER_TENANT))
      return undefined;
    const ns = namespaceName(tenant.metadata.name, this.ctx.config);
    const apps = this.ctx.informers.apps.list(ns);
    if (apps.length > 0) {
      for (const app of apps) {
        if (!app.metadata.deletionTimestamp) {
          await this.ctx.client.delete(APPS, app.metadata.name, ns);
        }
      }
      await this.status(tenant, 'Deleting', [
        {
          type: 'Ready',
          status: 'False',
          reason: 'DeletingApps',
          message: `Waiting for ${apps.length} app(s) to be deleted`,
          observedGeneration: tenant.metadata.generation,
        },
      ]);
      return { requeueAfterMs: this.ctx.pollMs * 4 };
    }
    await this.status(tenant, 'Deleting', [
      {
        type: 'Ready',
        status: 'False',
        reason: 'DeletingNamespace',
        message: `Deleting namespace ${ns}`,
        observedGeneration: tenant.metadata.generation,
      },
    ]);
    await deleteNetworkPolicy(this.ctx, tenant);
    await deleteRbac(this.ctx, tenant);
    await deleteQuota(this.ctx, tenant);
    if (!(await deleteNamespace(this.ctx, tenant))) {
      return { requeueAfterMs: this.ctx.pollMs };
    }
    await removeFinalizer(
      this.ctx.client,
      TENANTS,
      (this.ctx.informers.tenants.get(tenant.metadata.name) ??
        tenant) as unknown as KubeObject,
      FINALIZER_TENANT,
    );
    return undefined;
  }

  private async status(
    tenant: TenantResource,
    phase: TenantStatus['phase'],
    conditions: ConditionInput[],
  ): Promise<void> {
    const ns = namespaceName(tenant.metadata.name, this.ctx.config);
    const quota = cached(this.ctx.informers.resourceQuotas, RESOURCE_QUOTA, ns);
    const appCount = this.ctx.informers.apps.list(ns).length;
    let maxApps = 0;
    try {
      maxApps = tenantLimits(tenant, this.ctx.config).maxApps;
    } catch {
      // Unknown plan: reported in the conditions.
    }
    const usage = tenantUsage(quota, { used: appCount, hard: maxApps });
    const status: TenantStatus = {
      phase,
      namespace: ns,
      appCount,
      ...(usage ? { usage } : {}),
      conditions: setConditions(
        tenant.status?.conditions as Condition[] | undefined,
        conditions,
      ),
      observedGeneration: tenant.metadata.generation,
    };
    await writeStatus(
      this.ctx.client,
      TENANTS,
      tenant as unknown as KubeObject,
      status as Record<string, unknown>,
    );
  }
}

function failed(
  type: string,
  reason: string,
  message: string,
  tenant: TenantResource,
  status: 'False' | 'Unknown' = 'False',
): ConditionInput {
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: tenant.metadata.generation,
  };
}
