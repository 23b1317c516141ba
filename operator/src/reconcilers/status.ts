/**
 * Writing an owner's (Tenant's or App's) status through the status
 * subresource: its fields, its conditions (transition times kept while a
 * status holds) and observedGeneration, written only when something changed;
 * a change of phase is also recorded as a Kubernetes Event on the owner
 * (what `kubectl describe` and Paved's events list show).
 * Both reconcilers write through `writeOwnerStatus`.
 */
import os from 'node:os';
import { Condition } from '@paved/plugin-paved-common';
import { EVENTS, KubeClient, KubeObject, ResourceType } from '@paved/kube';

/** The Events' source: Paved's events list tells them from Kubernetes' by it. */
export const OPERATOR_EVENT_SOURCE = 'paved-operator';
import { ConditionInput, setConditions } from '../desired/conditions';

function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, inner]) => inner !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

export async function writeStatus(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  status: Record<string, unknown>,
): Promise<void> {
  if (stable(object.status ?? {}) === stable(status)) return;
  await client.apply(
    type,
    {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: {
        name: object.metadata.name,
        namespace: object.metadata.namespace,
      },
      status,
    },
    { subresource: 'status' },
  );
}

/**
 * The owner's status: `fields` (undefined ones left out), `conditions` set
 * onto the ones it has, and `observedGeneration` = its generation.
 */
export async function writeOwnerStatus(
  client: KubeClient,
  type: ResourceType,
  owner: {
    metadata: KubeObject['metadata'];
    status?: { conditions?: unknown };
  },
  fields: Record<string, unknown>,
  conditions: ConditionInput[],
): Promise<void> {
  const status = {
    ...Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined),
    ),
    conditions: setConditions(
      owner.status?.conditions as Condition[] | undefined,
      conditions,
    ),
    observedGeneration: owner.metadata.generation,
  };
  await writeStatus(client, type, owner as unknown as KubeObject, status);
  const before = (owner.status as { phase?: string } | undefined)?.phase;
  const phase = fields.phase as string | undefined;
  if (phase && phase !== before) {
    await recordPhaseChange(
      client,
      owner as unknown as KubeObject,
      before,
      phase,
      fields.message as string | undefined,
    );
  }
}

/**
 * Records `before → phase` as an Event on the owner (cluster-scoped owners'
 * in `default`, as Kubernetes does). Best effort: an Event that cannot be
 * written never fails the reconcile.
 */
async function recordPhaseChange(
  client: KubeClient,
  owner: KubeObject,
  before: string | undefined,
  phase: string,
  message: string | undefined,
): Promise<void> {
  const now = new Date().toISOString();
  const namespace = owner.metadata.namespace ?? 'default';
  try {
    await client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${owner.metadata.name}.${Date.now().toString(16)}${Math.floor(
          Math.random() * 0xfff,
        ).toString(16)}`,
        namespace,
      },
      involvedObject: {
        apiVersion: owner.apiVersion,
        kind: owner.kind,
        name: owner.metadata.name,
        namespace: owner.metadata.namespace,
        uid: owner.metadata.uid,
      },
      type: phase === 'Failed' ? 'Warning' : 'Normal',
      reason: phase,
      message: `${before ? `${before} → ` : ''}${phase}${
        message ? `: ${message}` : ''
      }`,
      source: { component: OPERATOR_EVENT_SOURCE },
      reportingComponent: `paved.dev/${OPERATOR_EVENT_SOURCE}`,
      reportingInstance: os.hostname(),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    } as KubeObject);
  } catch {
    // The status is what counts; the Event only tells the story.
  }
}
