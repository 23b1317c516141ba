/**
 * App status from what Knative reports on the Service and its latest
 * Revision: phase, URL, revisions, instances, and a message the user can act
 * on instead of Knative's own words.
 */
import { AppPhase, AppSpec } from '@paved/plugin-paved-common';
import { KubeObject } from '@paved/kube';
import { ConditionInput } from './conditions';

interface KnativeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface KnativeServiceStatus {
  observedGeneration?: number;
  conditions?: KnativeCondition[];
  url?: string;
  latestCreatedRevisionName?: string;
  latestReadyRevisionName?: string;
}

export interface RevisionStatus {
  actualReplicas?: number;
  desiredReplicas?: number;
}

export interface AppStatusFromKnative {
  phase: AppPhase;
  url?: string;
  latestCreatedRevision?: string;
  latestReadyRevision?: string;
  instances?: { desired?: number; ready?: number };
  message?: string;
  /** The `KnativeServiceReady` condition (without lastTransitionTime). */
  condition: ConditionInput;
}

/** Turns Knative's reason and message into advice the app's owner can follow. */
export function userMessage(
  reason: string | undefined,
  message: string | undefined,
  spec: AppSpec,
): string {
  const text = `${reason ?? ''} ${message ?? ''}`;
  if (/exceeded quota|quota exceeded|forbidden: exceeded/i.test(text)) {
    return `The tenant's quota is used up, so no instance can start. Lower this app's cpu, memory or maxInstances, delete an app you no longer need, or move the tenant to a larger plan. (${
      message ?? reason
    })`;
  }
  if (
    /fetch image|pull|manifest unknown|ImagePull|ErrImage|InvalidImageName|image.*not found/i.test(
      text,
    )
  ) {
    return `The image ${
      spec.image
    } could not be pulled. Check the image name and tag, and that its registry lets the cluster pull it. (${
      message ?? reason
    })`;
  }
  // Before the start failures: Knative reports an unschedulable instance as
  // RevisionFailed too (found by the fault harness on a full node).
  if (
    /Insufficient (cpu|memory)|nodes are available|Unschedulable/i.test(text)
  ) {
    return `No node has room for an instance of this app right now (its cpu and memory requests do not fit). It starts once there is room; to start sooner, lower this app's cpu or memory, or ask the platform team for more nodes. (${
      message ?? reason
    })`;
  }
  if (
    /RevisionFailed|ExitCode|CrashLoopBackOff|container.*(failed|terminated)|probe|ProgressDeadline/i.test(
      text,
    )
  ) {
    return `The app did not start or did not answer on port ${
      spec.port
    }. Check that it listens on port ${
      spec.port
    } (the PORT environment variable) and look at its logs. (${
      message ?? reason
    })`;
  }
  return message || reason || 'Knative reported a problem';
}

/**
 * The Knative Service's Ready condition ('True', 'False' or 'Unknown') once
 * Knative has observed the Service's current generation; undefined while it
 * has not (its status still describes an older spec).
 */
export function knativeReadyForGeneration(
  ksvc: KubeObject,
): 'True' | 'False' | 'Unknown' | undefined {
  const status = ksvc.status as KnativeServiceStatus | undefined;
  if (status?.observedGeneration !== ksvc.metadata.generation) return undefined;
  const ready = status?.conditions?.find(c => c.type === 'Ready');
  return (
    (ready?.status as 'True' | 'False' | 'Unknown' | undefined) ?? 'Unknown'
  );
}

export function appStatusFromKnative(
  ksvc: KubeObject | undefined,
  revision: KubeObject | undefined,
  spec: AppSpec,
  generation: number | undefined,
): AppStatusFromKnative {
  if (!ksvc) {
    return {
      phase: 'Deploying',
      condition: {
        type: 'KnativeServiceReady',
        status: 'Unknown',
        reason: 'Creating',
        message: 'The Knative Service is being created',
        observedGeneration: generation,
      },
    };
  }
  const status = (ksvc.status ?? {}) as KnativeServiceStatus;
  const revisionStatus = (revision?.status ?? {}) as RevisionStatus;
  const ready = status.conditions?.find(c => c.type === 'Ready');
  const base = {
    url: status.url,
    latestCreatedRevision: status.latestCreatedRevisionName,
    latestReadyRevision: status.latestReadyRevisionName,
    instances: {
      desired: revisionStatus.desiredReplicas ?? 0,
      ready: revisionStatus.actualReplicas ?? 0,
    },
  };
  const current =
    status.observedGeneration !== undefined &&
    status.observedGeneration === ksvc.metadata.generation;
  if (!current || !ready) {
    return {
      ...base,
      phase: 'Deploying',
      condition: {
        type: 'KnativeServiceReady',
        status: 'Unknown',
        reason: 'Deploying',
        message: 'Knative is rolling out the latest revision',
        observedGeneration: generation,
      },
    };
  }
  if (ready.status === 'True') {
    return {
      ...base,
      phase: 'Ready',
      condition: {
        type: 'KnativeServiceReady',
        status: 'True',
        reason: ready.reason || 'Ready',
        message: ready.message || 'The app is serving',
        observedGeneration: generation,
      },
    };
  }
  // Knative's top-level reason is often generic; the sub-condition has the cause.
  const cause =
    status.conditions?.find(
      c => c.type !== 'Ready' && c.status === ready.status && c.message,
    ) ?? ready;
  const message = userMessage(
    cause.reason ?? ready.reason,
    cause.message ?? ready.message,
    spec,
  );
  const failed = ready.status === 'False';
  return {
    ...base,
    phase: failed ? 'Failed' : 'Deploying',
    message: failed || cause.message ? message : undefined,
    condition: {
      type: 'KnativeServiceReady',
      status: ready.status,
      reason: cause.reason || ready.reason || (failed ? 'Failed' : 'Deploying'),
      message,
      observedGeneration: generation,
    },
  };
}
