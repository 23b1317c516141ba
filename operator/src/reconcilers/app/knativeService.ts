/** The App's Knative Service, and reading back what Knative reports. */
import { AppResource } from '@paved/plugin-paved-common';
import { KNATIVE_SERVICES, KubeObject, REVISIONS } from '@paved/kube';
import { knativeReadyForGeneration } from '../../desired/appStatus';
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
 * While Knative works through a rollout its Service changes several times a
 * second (revision created, configuration, route, each condition); the App
 * follows those steps at most once per this long, and at once when the
 * Service settles (Ready True or False for its generation).
 */
export const KNATIVE_STEP_BATCH_MS = 1000;

/** Ready (True or False) for the Service's own generation. */
function settled(ksvc: KubeObject): boolean {
  const ready = knativeReadyForGeneration(ksvc);
  return ready === 'True' || ready === 'False';
}

/**
 * The Service (its status is the App's, read by the reconciler from `live`)
 * and its Revisions, which Knative labels from the template.
 */
export const knativeServiceChild: AppChild = {
  name: 'knativeService',
  types: [
    {
      type: KNATIVE_SERVICES,
      updateDelayMs: ksvc => (settled(ksvc) ? 0 : KNATIVE_STEP_BATCH_MS),
    },
    {
      type: REVISIONS,
      updated: replicasChanged,
      // Instance counts: no hurry, and they come in bursts.
      updateDelayMs: () => KNATIVE_STEP_BATCH_MS,
    },
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
