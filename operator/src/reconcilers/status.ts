/**
 * Writing an owner's (Tenant's or App's) status through the status
 * subresource: its fields, its conditions (transition times kept while a
 * status holds) and observedGeneration, written only when something changed;
 * the arrival at a settled phase is also recorded as a Kubernetes Event on
 * the owner (what `kubectl describe` and Paved's events list show).
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

/** Writes `status` unless it is what the object has; returns the object as it now is. */
export async function writeStatus(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  status: Record<string, unknown>,
): Promise<KubeObject> {
  if (stable(object.status ?? {}) === stable(status)) return object;
  return applyStatus(client, type, object, status);
}

function applyStatus(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  status: Record<string, unknown>,
): Promise<KubeObject> {
  return client.apply(
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
 * What this operator (one leader session) last wrote to each owner's status
 * (by uid), and on top of which resourceVersion. The informer's copy lags
 * our own writes: a reconcile that runs before the watch event of its last
 * write arrives would otherwise write the same status again (and record
 * the same phase change twice). One small entry per owner, dropped once
 * the cache has caught up or the owner is gone. It lives in the
 * ReconcileContext, with the informers whose lag it covers.
 */
export class StatusMemo {
  private readonly written = new Map<
    string,
    { basedOn: string; status: Record<string, unknown> }
  >();

  get(uid: string) {
    return this.written.get(uid);
  }
  set(uid: string, basedOn: string, status: Record<string, unknown>) {
    this.written.set(uid, { basedOn, status });
  }
  /** Forgets what was written to an owner that is gone, or caught up. */
  forget(owner: { metadata: KubeObject['metadata'] } | string) {
    const uid = typeof owner === 'string' ? owner : owner.metadata.uid;
    if (uid) this.written.delete(uid);
  }
}

/** What a status write needs of the reconcile context. */
export interface StatusSession {
  client: KubeClient;
  statuses: StatusMemo;
}

/**
 * The phases whose arrival is recorded as an Event: where an owner settles
 * (or starts to go). Passing through Pending or Deploying is not (a request
 * each for every change); the next Event's "Deploying → Ready" tells it.
 */
const RECORDED_PHASES = new Set([
  'Active',
  'Ready',
  'Failed',
  'Paused',
  'Deleting',
]);

/**
 * The owner's status: `fields` (undefined ones left out), `conditions` set
 * onto the ones it has, and `observedGeneration` = its generation. Written
 * only when it differs from what the owner has — or, while the cached owner
 * predates our last write, from what we wrote then. Returns the owner as it
 * now is (its new resourceVersion, for a guarded patch).
 */
export async function writeOwnerStatus(
  { client, statuses }: StatusSession,
  type: ResourceType,
  owner: {
    metadata: KubeObject['metadata'];
    status?: { conditions?: unknown };
  },
  fields: Record<string, unknown>,
  conditions: ConditionInput[],
): Promise<KubeObject> {
  const object = owner as unknown as KubeObject;
  const { uid, resourceVersion } = owner.metadata;
  const memo = uid ? statuses.get(uid) : undefined;
  const behind = memo !== undefined && memo.basedOn === resourceVersion;
  if (memo && !behind) statuses.forget(uid!);
  // While the cache is behind our last write, that write is the base.
  const base = (behind ? memo.status : owner.status) as
    | { conditions?: unknown; phase?: string }
    | undefined;
  const status = {
    ...Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined),
    ),
    conditions: setConditions(
      base?.conditions as Condition[] | undefined,
      conditions,
    ),
    observedGeneration: owner.metadata.generation,
  };
  const phase = fields.phase as string | undefined;
  const before = base?.phase;
  if (behind && stable(memo.status) === stable(status)) return object;
  // Nor is the cached status the server's then: no skipping by it.
  const written = behind
    ? await applyStatus(client, type, object, status)
    : await writeStatus(client, type, object, status);
  if (written === object) return object;
  if (uid && resourceVersion) {
    statuses.set(uid, resourceVersion, status);
  }
  if (phase && phase !== before && RECORDED_PHASES.has(phase)) {
    // Not waited for: the reconcile is done once the status is written.
    void recordPhaseChange(
      client,
      object,
      before,
      phase,
      fields.message as string | undefined,
    );
  }
  return written;
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
