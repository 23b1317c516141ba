/**
 * AppReconciler: an App becomes a Knative Service and its DomainMappings;
 * its status is read back from Knative. A paused App has no Service (see the
 * README); deleting an App deletes its mappings, then its Service.
 */
import {
  AppResource,
  appSpecSchema,
  AppStatus,
  Condition,
  FINALIZER_APP,
  LABEL_TENANT,
  TenantResource,
} from '@paved/plugin-paved-common';
import { ReconcileResult, Reconciler } from '../../controller/controller';
import { APPS, KubeObject } from '@paved/kube';
import { appsOverLimit } from '../../desired/appLimit';
import {
  appStatusFromKnative,
  AppStatusFromKnative,
} from '../../desired/appStatus';
import { tenantLimits } from '../../desired/quota';
import { ConditionInput, setConditions } from '../../desired/conditions';
import { cached, ReconcileContext } from '../context';
import { addFinalizer, removeFinalizer } from '../finalizers';
import { SpecCache } from '../specCache';
import { writeStatus } from '../status';
import {
  deleteDomainMappings,
  reconcileDomainMappings,
} from './domainMappings';
import {
  applyKnativeService,
  deleteKnativeService,
  latestRevision,
} from './knativeService';

export class AppReconciler implements Reconciler {
  private readonly specs = new SpecCache(appSpecSchema);

  constructor(private readonly ctx: ReconcileContext) {}

  /** The tenant a namespace belongs to: its label, else the name minus the prefix. */
  tenantOf(namespace: string): string | undefined {
    const ns = cached(this.ctx.informers.namespaces, namespace);
    const label = ns?.metadata.labels?.[LABEL_TENANT];
    if (label) return label;
    const prefix = this.ctx.config.namespacePrefix;
    return namespace.startsWith(prefix)
      ? namespace.slice(prefix.length)
      : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const object = this.ctx.informers.apps.get(key);
    if (!object) return undefined;
    const app = object as unknown as AppResource;
    if (app.metadata.deletionTimestamp) return this.finalize(app);
    const generation = app.metadata.generation;

    const parsed = this.specs.parse(app);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `${issue.path.join('.')}: ${issue.message}`;
      await this.status(app, { phase: 'Failed', message }, [
        {
          type: 'Ready',
          status: 'False',
          reason: 'InvalidSpec',
          message,
          observedGeneration: generation,
        },
      ]);
      return undefined;
    }
    const spec = parsed.data;

    const tenantName = this.tenantOf(app.metadata.namespace!);
    const tenant = tenantName
      ? (this.ctx.informers.tenants.get(tenantName) as unknown as
          | TenantResource
          | undefined)
      : undefined;
    if (
      !tenant ||
      tenant.metadata.deletionTimestamp ||
      tenant.status?.phase !== 'Active'
    ) {
      const { reason, message } = tenantProblem(
        tenant,
        tenantName,
        app.metadata.namespace!,
      );
      await this.status(app, { phase: 'Pending', message }, [
        {
          type: 'TenantReady',
          status: 'False',
          reason,
          message,
          observedGeneration: generation,
        },
        {
          type: 'Ready',
          status: 'False',
          reason,
          message,
          observedGeneration: generation,
        },
      ]);
      // Tenant events requeue the app; this is only a safety net.
      return { requeueAfterMs: this.ctx.pollMs * 20 };
    }
    const tenantReady: ConditionInput = {
      type: 'TenantReady',
      status: 'True',
      reason: 'Active',
      message: `Tenant ${tenant.metadata.name} is active`,
      observedGeneration: generation,
    };

    if (!this.ctx.features.knative) {
      const message =
        'Knative Serving is not installed in the cluster; ask the platform team';
      await this.status(app, { phase: 'Pending', message }, [
        tenantReady,
        {
          type: 'Ready',
          status: 'False',
          reason: 'KnativeMissing',
          message,
          observedGeneration: generation,
        },
      ]);
      return { requeueAfterMs: this.ctx.pollMs * 20 };
    }

    const maxApps = tenantLimits(tenant, this.ctx.config).maxApps;
    const hasService = cached(
      this.ctx.informers.knativeServices,
      app.metadata.name,
      app.metadata.namespace,
    );
    if (
      !hasService &&
      appsOverLimit(
        this.ctx.informers.apps.list(app.metadata.namespace),
        maxApps,
        new Set(
          (
            this.ctx.informers.knativeServices?.list(app.metadata.namespace) ??
            []
          ).map(k => k.metadata.name),
        ),
      ).has(app.metadata.name)
    ) {
      const message = `Tenant ${tenant.metadata.name} allows ${maxApps} apps on plan ${tenant.spec.plan}; delete an app or move the tenant to a larger plan`;
      await this.status(app, { phase: 'Failed', message }, [
        tenantReady,
        {
          type: 'Ready',
          status: 'False',
          reason: 'AppLimitReached',
          message,
          observedGeneration: generation,
        },
      ]);
      return undefined;
    }

    // The finalizer and the children go out together: the children carry
    // owner references, so an App deleted in between leaves no orphans.
    const ensureFinalizer = addFinalizer(
      this.ctx.client,
      APPS,
      object,
      FINALIZER_APP,
    ) as Promise<unknown> as Promise<AppResource>;

    if (spec.paused) {
      const current = await ensureFinalizer;
      await deleteDomainMappings(this.ctx, current);
      const gone = await deleteKnativeService(this.ctx, current);
      const message =
        'The app is paused: it runs no instances until it is resumed';
      await this.status(
        current,
        { phase: 'Paused', instances: { desired: 0, ready: 0 } },
        [
          tenantReady,
          {
            type: 'KnativeServiceReady',
            status: 'False',
            reason: 'Paused',
            message,
            observedGeneration: generation,
          },
          {
            type: 'Ready',
            status: 'False',
            reason: 'Paused',
            message,
            observedGeneration: generation,
          },
        ],
      );
      return gone ? undefined : { requeueAfterMs: this.ctx.pollMs };
    }

    const [current, ksvc, domains] = await Promise.all([
      ensureFinalizer,
      applyKnativeService(this.ctx, tenant.metadata.name, app, spec),
      reconcileDomainMappings(this.ctx, tenant.metadata.name, app, spec),
    ]);
    const revision = latestRevision(this.ctx, ksvc);
    const knative = appStatusFromKnative(
      ksvc.status ? ksvc : undefined,
      revision,
      spec,
      generation,
    );
    const ready = readyCondition(knative, domains, generation);
    const written =
      ksvc.metadata.resourceVersion !==
      cached(
        this.ctx.informers.knativeServices,
        app.metadata.name,
        app.metadata.namespace,
      )?.metadata.resourceVersion;
    if (written && knative.phase === 'Deploying') {
      // Our write brings a watch event for the Service, and that reconcile
      // sees what Knative made of it: one status write instead of two.
      return undefined;
    }
    await this.status(
      current,
      {
        phase: knative.phase,
        url: knative.url,
        latestCreatedRevision: knative.latestCreatedRevision,
        latestReadyRevision: knative.latestReadyRevision,
        instances: knative.instances,
        message:
          knative.message ??
          (domains.status === 'False' ? domains.message : undefined),
      },
      [tenantReady, knative.condition, domains, ready],
    );
    return undefined;
  }

  private async finalize(app: AppResource): Promise<ReconcileResult | void> {
    if (!app.metadata.finalizers?.includes(FINALIZER_APP)) return undefined;
    await this.status(app, { phase: 'Deleting' }, [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Deleting',
        message: 'The app is being deleted',
        observedGeneration: app.metadata.generation,
      },
    ]).catch(() => {});
    // In order: the mappings are gone before the Service they point at.
    if (!(await deleteDomainMappings(this.ctx, app))) {
      return { requeueAfterMs: this.ctx.pollMs };
    }
    if (
      this.ctx.features.knative &&
      !(await deleteKnativeService(this.ctx, app))
    ) {
      return { requeueAfterMs: this.ctx.pollMs };
    }
    await removeFinalizer(
      this.ctx.client,
      APPS,
      app as unknown as KubeObject,
      FINALIZER_APP,
    );
    return undefined;
  }

  private async status(
    app: AppResource,
    fields: Omit<AppStatus, 'conditions' | 'observedGeneration'>,
    conditions: ConditionInput[],
  ): Promise<void> {
    const status: AppStatus = {
      ...Object.fromEntries(
        Object.entries(fields).filter(([, v]) => v !== undefined),
      ),
      conditions: setConditions(
        app.status?.conditions as Condition[] | undefined,
        conditions,
      ),
      observedGeneration: app.metadata.generation,
    };
    await writeStatus(
      this.ctx.client,
      APPS,
      app as unknown as KubeObject,
      status as Record<string, unknown>,
    );
  }
}

function tenantProblem(
  tenant: TenantResource | undefined,
  tenantName: string | undefined,
  namespace: string,
): { reason: string; message: string } {
  if (!tenant) {
    return {
      reason: 'TenantMissing',
      message: `No tenant owns namespace ${namespace}: create tenant ${
        tenantName ?? '(none)'
      } first, or move the app to a tenant's namespace`,
    };
  }
  if (tenant.metadata.deletionTimestamp) {
    return {
      reason: 'TenantDeleting',
      message: `Tenant ${tenant.metadata.name} is being deleted`,
    };
  }
  return {
    reason: 'TenantNotReady',
    message: `Waiting for tenant ${tenant.metadata.name} to become Active`,
  };
}

/** Ready: Knative serves the latest revision and every domain is mapped. */
function readyCondition(
  knative: AppStatusFromKnative,
  domains: ConditionInput,
  generation: number | undefined,
): ConditionInput {
  if (knative.phase !== 'Ready') {
    return {
      ...knative.condition,
      type: 'Ready',
      observedGeneration: generation,
    };
  }
  if (domains.status !== 'True') {
    return {
      type: 'Ready',
      status: 'False',
      reason: domains.reason,
      message: domains.message,
      observedGeneration: generation,
    };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Ready',
    message: `Serving at ${knative.url ?? 'its URL'}`,
    observedGeneration: generation,
  };
}
