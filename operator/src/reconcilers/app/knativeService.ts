/** The App's Knative Service, and reading back what Knative reports. */
import { AppResource } from '@paved/plugin-paved-common';
import { KNATIVE_SERVICES, KubeObject, REVISIONS } from '@paved/kube';
import { desiredKnativeService } from '../../desired/knativeService';
import { applyChild } from '../apply';
import { AppChild } from '../children';
import { ReconcileContext } from '../context';
import { deleteCached } from '../remove';

/** Instance counts follow Knative's scaling (to zero and back). */
function replicasChanged(oldRevision: KubeObject, newRevision: KubeObject) {
  const replicas = (r: KubeObject) => {
    const status = r.status as
      | { actualReplicas?: number; desiredReplicas?: number }
      | undefined;
    return `${status?.actualReplicas}/${status?.desiredReplicas}`;
  };
  return replicas(oldRevision) !== replicas(newRevision);
}

/**
 * The Service (its status is the App's, read by the reconciler from `live`)
 * and its Revisions, which Knative labels from the template.
 */
export const knativeServiceChild: AppChild = {
  name: 'knativeService',
  types: [
    { type: KNATIVE_SERVICES },
    { type: REVISIONS, updated: replicasChanged },
  ],
  requires: 'knative',
  desired: (_ctx, { tenant, app, spec }) => [
    desiredKnativeService(tenant, app, spec),
  ],
  reconcile: async (ctx, input) => {
    const { app } = input;
    const [desired] = knativeServiceChild.desired(ctx, input);
    const live = await applyChild(
      ctx.client,
      KNATIVE_SERVICES,
      desired,
      ctx.informers.cached(
        KNATIVE_SERVICES,
        app.metadata.name,
        app.metadata.namespace,
      ),
    );
    return { live };
  },
  remove: (ctx, app) => deleteKnativeService(ctx, app),
};

/** The latest ready Revision (from the cache), for instance counts. */
export function latestRevision(
  ctx: ReconcileContext,
  ksvc: KubeObject,
): KubeObject | undefined {
  const name = (ksvc.status as { latestReadyRevisionName?: string } | undefined)
    ?.latestReadyRevisionName;
  if (!name) return undefined;
  return ctx.informers.cached(REVISIONS, name, ksvc.metadata.namespace);
}

/**
 * Deletes the Service; true once the cache has seen it go (its delete event
 * wakes the App). One the cache never saw goes with its owner reference.
 */
async function deleteKnativeService(
  ctx: ReconcileContext,
  app: AppResource,
): Promise<boolean> {
  const { name, namespace } = app.metadata;
  return (
    (await deleteCached(ctx, KNATIVE_SERVICES, name, namespace)) === 'gone'
  );
}
