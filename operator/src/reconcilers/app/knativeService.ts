/** The App's Knative Service, and reading back what Knative reports. */
import { AppResource, AppSpec } from '@paved/plugin-paved-common';
import { KNATIVE_SERVICES, KubeObject } from '@paved/kube';
import { desiredKnativeService } from '../../desired/knativeService';
import { applyChild } from '../apply';
import { cached, ReconcileContext } from '../context';

export async function applyKnativeService(
  ctx: ReconcileContext,
  tenant: string,
  app: AppResource,
  spec: AppSpec,
): Promise<KubeObject> {
  return applyChild(
    ctx.client,
    KNATIVE_SERVICES,
    desiredKnativeService(tenant, app, spec),
    cached(
      ctx.informers.knativeServices,
      app.metadata.name,
      app.metadata.namespace,
    ),
  );
}

/** The latest ready Revision (from the cache), for instance counts. */
export function latestRevision(
  ctx: ReconcileContext,
  ksvc: KubeObject,
): KubeObject | undefined {
  const name = (ksvc.status as { latestReadyRevisionName?: string } | undefined)
    ?.latestReadyRevisionName;
  if (!name) return undefined;
  return cached(ctx.informers.revisions, name, ksvc.metadata.namespace);
}

/** Deletes the Service; true once it is gone. */
export async function deleteKnativeService(
  ctx: ReconcileContext,
  app: AppResource,
): Promise<boolean> {
  const { name, namespace } = app.metadata;
  await ctx.client.delete(KNATIVE_SERVICES, name, namespace);
  return (
    (await ctx.client.tryGet(KNATIVE_SERVICES, name, namespace)) === undefined
  );
}
