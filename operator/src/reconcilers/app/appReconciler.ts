/**
 * AppReconciler: an App becomes the children of `APP_CHILDREN` (a Knative
 * Service and its DomainMappings); its status is read back from Knative. A
 * paused App has no Service (see the README); deleting an App removes the
 * children in reverse order: the mappings, then the Service.
 */
import {
  AppResource,
  appSpecSchema,
  AppStatus,
  FINALIZER_APP,
  LABEL_TENANT,
  TenantResource,
} from '@paved/plugin-paved-common';
import { ReconcileResult, Reconciler } from '../../controller/controller';
import {
  APPS,
  KNATIVE_SERVICES,
  KubeObject,
  NAMESPACES,
  TENANTS,
} from '@paved/kube';
import { appsOverLimit } from '../../desired/appLimit';
import {
  appStatusFromKnative,
  AppStatusFromKnative,
} from '../../desired/appStatus';
import { tenantLimits } from '../../desired/quota';
import { condition, ConditionInput } from '../../desired/conditions';
import { reconcileChildren, removeChildren } from '../children';
import { ReconcileContext } from '../context';
import { addFinalizer, removeFinalizer } from '../finalizers';
import { SpecCache } from '../specCache';
import { writeOwnerStatus } from '../status';
import { APP_CHILDREN } from './children';
import { knativeServiceChild, latestRevision } from './knativeService';
import { domainMappingsChild } from './domainMappings';

/**
 * Cached Apps whose finalizer this process removed: a pass that runs before
 * the App's delete event arrives sends no second PATCH (answered 404).
 * Weak, like remove.ts's: an entry goes with the cached copy.
 */
const released = new WeakSet<AppResource>();

export class AppReconciler implements Reconciler {
  private readonly specs = new SpecCache(appSpecSchema);

  constructor(private readonly ctx: ReconcileContext) {}

  /** The tenant a namespace belongs to: its label, else the name minus the prefix. */
  tenantOf(namespace: string): string | undefined {
    const ns = this.ctx.informers.cached(NAMESPACES, namespace);
    const label = ns?.metadata.labels?.[LABEL_TENANT];
    if (label) return label;
    const prefix = this.ctx.config.namespacePrefix;
    return namespace.startsWith(prefix)
      ? namespace.slice(prefix.length)
      : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const object = this.ctx.informers.of(APPS).get(key);
    if (!object) return undefined;
    const app = object as unknown as AppResource;
    if (app.metadata.deletionTimestamp) return this.finalize(app);
    const { name, namespace } = app.metadata as {
      name: string;
      namespace: string;
    };

    const parsed = this.specs.parse(app);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `${issue.path.join('.')}: ${issue.message}`;
      await this.status(app, { phase: 'Failed', message }, [
        condition(app, 'Ready', 'False', 'InvalidSpec', message),
      ]);
      return undefined;
    }
    const spec = parsed.data;

    const tenantName = this.tenantOf(namespace);
    const tenant = tenantName
      ? (this.ctx.informers.of(TENANTS).get(tenantName) as unknown as
          | TenantResource
          | undefined)
      : undefined;
    if (tenant?.metadata.deletionTimestamp) {
      // The tenant's finalizer deletes this app next, and the app's own
      // deletion says so in its status: nothing to write now.
      return undefined;
    }
    if (!tenant || tenant.status?.phase !== 'Active') {
      const { reason, message } = tenantProblem(tenant, tenantName, namespace);
      await this.status(app, { phase: 'Pending', message }, [
        condition(app, 'TenantReady', 'False', reason, message),
        condition(app, 'Ready', 'False', reason, message),
      ]);
      // Tenant events requeue the app; this is only a safety net.
      return { requeueAfterMs: this.ctx.pollMs * 20 };
    }
    const tenantReady = condition(
      app,
      'TenantReady',
      'True',
      'Active',
      `Tenant ${tenant.metadata.name} is active`,
    );

    if (!this.ctx.features.knative) {
      const message =
        'Knative Serving is not installed in the cluster; ask the platform team';
      await this.status(app, { phase: 'Pending', message }, [
        tenantReady,
        condition(app, 'Ready', 'False', 'KnativeMissing', message),
      ]);
      return { requeueAfterMs: this.ctx.pollMs * 20 };
    }

    const maxApps = tenantLimits(tenant, this.ctx.config).maxApps;
    const cachedService = () =>
      this.ctx.informers.cached(KNATIVE_SERVICES, name, namespace);
    if (
      !cachedService() &&
      appsOverLimit(
        this.ctx.informers.list(APPS, namespace),
        maxApps,
        new Set(
          this.ctx.informers
            .list(KNATIVE_SERVICES, namespace)
            .map(k => k.metadata.name),
        ),
      ).has(name)
    ) {
      const message = `Tenant ${tenant.metadata.name} allows ${maxApps} apps on plan ${tenant.spec.plan}; delete an app or move the tenant to a larger plan`;
      await this.status(app, { phase: 'Failed', message }, [
        tenantReady,
        condition(app, 'Ready', 'False', 'AppLimitReached', message),
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
      const gone = await removeChildren(APP_CHILDREN, this.ctx, current, {
        waitForEach: false,
      });
      const message =
        'The app is paused: it runs no instances until it is resumed';
      await this.status(
        current,
        { phase: 'Paused', instances: { desired: 0, ready: 0 } },
        [
          tenantReady,
          condition(app, 'KnativeServiceReady', 'False', 'Paused', message),
          condition(app, 'Ready', 'False', 'Paused', message),
        ],
      );
      return gone ? undefined : { requeueAfterMs: this.ctx.pollMs };
    }

    const conditions: ConditionInput[] = [];
    const [current, children] = await Promise.all([
      ensureFinalizer,
      reconcileChildren(
        APP_CHILDREN,
        this.ctx,
        { app, spec, tenant: tenant.metadata.name },
        conditions,
      ),
    ]);
    const ksvc = children.outcomes.get(knativeServiceChild.name)!.live!;
    const [domains] = conditions.filter(c => c.type === 'DomainsReady');
    const revision = latestRevision(this.ctx, ksvc);
    const knative = appStatusFromKnative(
      ksvc.status ? ksvc : undefined,
      revision,
      spec,
      app.metadata.generation,
    );
    const written =
      ksvc.metadata.resourceVersion !==
      cachedService()?.metadata.resourceVersion;
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
        domains: children.outcomes.get(domainMappingsChild.name)?.domains,
      },
      [
        tenantReady,
        knative.condition,
        domains,
        readyCondition(app, knative, domains),
      ],
    );
    return undefined;
  }

  private async finalize(app: AppResource): Promise<ReconcileResult | void> {
    if (!app.metadata.finalizers?.includes(FINALIZER_APP)) return undefined;
    // Let go of already, and the cache has not caught up: nothing to send.
    if (released.has(app)) return undefined;
    // An app going with its tenant says nothing: the Tenant's status tells
    // the deletion, and the namespace takes the app's Events with it.
    const tenantName = this.tenantOf(app.metadata.namespace!);
    const tenantGoing = tenantName
      ? Boolean(
          this.ctx.informers.cached(TENANTS, tenantName)?.metadata
            .deletionTimestamp,
        )
      : false;
    const current = tenantGoing
      ? (app as unknown as KubeObject)
      : await this.status(app, { phase: 'Deleting' }, [
          condition(
            app,
            'Ready',
            'False',
            'Deleting',
            'The app is being deleted',
          ),
        ]).catch(() => app as unknown as KubeObject);
    if (
      !(await removeChildren(APP_CHILDREN, this.ctx, app, {
        waitForEach: true,
      }))
    ) {
      return { requeueAfterMs: this.ctx.pollMs };
    }
    await removeFinalizer(this.ctx.client, APPS, current, FINALIZER_APP);
    released.add(app);
    this.ctx.statuses.forget(app);
    return undefined;
  }

  private status(
    app: AppResource,
    fields: Omit<AppStatus, 'conditions' | 'observedGeneration'>,
    conditions: ConditionInput[],
  ): Promise<KubeObject> {
    return writeOwnerStatus(this.ctx, APPS, app, fields, conditions);
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
  return {
    reason: 'TenantNotReady',
    message: `Waiting for tenant ${tenant.metadata.name} to become Active`,
  };
}

/** Ready: Knative serves the latest revision and every domain is mapped. */
function readyCondition(
  app: AppResource,
  knative: AppStatusFromKnative,
  domains: ConditionInput,
): ConditionInput {
  if (knative.phase !== 'Ready') {
    return {
      ...knative.condition,
      type: 'Ready',
      observedGeneration: app.metadata.generation,
    };
  }
  if (domains.status !== 'True') {
    return condition(app, 'Ready', 'False', domains.reason, domains.message);
  }
  return condition(
    app,
    'Ready',
    'True',
    'Ready',
    `Serving at ${knative.url ?? 'its URL'}`,
  );
}
