/**
 * The operator's children as one ordered registry per owner kind (Tenant,
 * App). Each child is declared once — the resource types it consists of, the
 * optional API it needs, how to build its desired state, how to reconcile
 * and remove it — and everything else is derived from the registry:
 * reconcile walks it in order, deletion in reverse, and the leader session
 * makes one informer per child type (optional types only when their API is
 * served) and maps their events to the owner with `ownerKey`.
 */
import {
  AppDomainStatus,
  AppResource,
  AppSpec,
  TenantResource,
} from '@paved/plugin-paved-common';
import {
  ClusterFeatures,
  featureOf,
  KubeObject,
  OptionalFeature,
  ResourceType,
} from '@paved/kube';
import { ConditionInput } from '../desired/conditions';
import { ReconcileContext } from './context';

/** A type a child consists of (or reads), watched for its owner. */
export interface ChildType {
  type: ResourceType;
  /**
   * Which updates requeue the owner (a predicate); every update does when
   * absent. Adds and deletes always do.
   */
  updated?: (oldObject: KubeObject, newObject: KubeObject) => boolean;
  /**
   * How long to hold the owner's requeue after an update of this object, so
   * that a burst of updates (another controller working through its steps)
   * is one reconcile and one status write; 0 or absent: at once.
   */
  updateDelayMs?: (object: KubeObject) => number;
}

/** What reconciling a child came to. */
export interface ChildOutcome {
  /** The condition the child reports on its owner, if it has one. */
  condition?: ConditionInput;
  /** The live object, for children whose state the owner's status reads. */
  live?: KubeObject;
  /** Each custom domain as it is served (the App's `status.domains`). */
  domains?: AppDomainStatus[];
}

/**
 * One child. `Input` is what reconcile gets (the owner with its parsed spec,
 * and whatever else the owner's reconciler resolved); `Owner` is the stored
 * owner, which is all deletion has.
 */
export interface Child<Input, Owner> {
  /** For logs and errors. */
  name: string;
  /** Its resource types; an optional type (Capsule's, Cilium's, Knative's) is watched only when the cluster serves it. */
  types: readonly ChildType[];
  /** The optional API without which the child is not made (nor removed). */
  requires?: OptionalFeature;
  /**
   * The children after this one wait until its condition is True; until
   * then the owner is Pending with this condition's reason. Children between
   * two gates are reconciled concurrently.
   */
  gate?: boolean;
  /** The objects it should consist of now (pure functions in `desired/`). */
  desired(ctx: ReconcileContext, input: Input): KubeObject[];
  /** Makes the cluster match `desired` (and removes the alternatives). */
  reconcile(ctx: ReconcileContext, input: Input): Promise<ChildOutcome>;
  /** Deletes it; true once it is gone. */
  remove(ctx: ReconcileContext, owner: Owner): Promise<boolean>;
}

export interface ChildRegistry<Input, Owner> {
  /** The owner's kind. */
  owner: ResourceType;
  /** The owner's key for an event on one of its children (from its labels). */
  ownerKey(child: KubeObject): string | undefined;
  /** In reconcile order; deletion goes in reverse. */
  children: readonly Child<Input, Owner>[];
}

/** A Tenant child: reconciled from the parsed Tenant, removed from the stored one. */
export type TenantChild = Child<TenantResource, TenantResource>;

/** What an App child is reconciled from. */
export interface AppChildInput {
  app: AppResource;
  /** The parsed spec. */
  spec: AppSpec;
  /** The name of the App's (Active) tenant. */
  tenant: string;
}

/** An App child: reconciled from the parsed App, removed from the stored one. */
export type AppChild = Child<AppChildInput, AppResource>;

function present(
  child: { requires?: OptionalFeature },
  features: ClusterFeatures,
): boolean {
  return child.requires === undefined || features[child.requires];
}

/** The registry's types this cluster serves, each once, in registry order. */
export function watchedTypes(
  registry: ChildRegistry<any, any>,
  features: ClusterFeatures,
): ChildType[] {
  return registry.children
    .filter(child => present(child, features))
    .flatMap(child => child.types)
    .filter(({ type }) => {
      const feature = featureOf(type);
      return feature === undefined || features[feature];
    });
}

export interface ChildrenReconciled {
  /** Each child's outcome, by name. */
  outcomes: Map<string, ChildOutcome>;
  /** The gate's condition when a gate is not True yet (and the rest waits). */
  blocked?: ConditionInput;
}

/**
 * Reconciles the children in order (see `Child.gate`). Their conditions go
 * onto `conditions` as they come, in registry order, so a caller whose walk
 * failed half-way still has the ones before.
 */
export async function reconcileChildren<Input, Owner>(
  registry: ChildRegistry<Input, Owner>,
  ctx: ReconcileContext,
  input: Input,
  conditions: ConditionInput[] = [],
): Promise<ChildrenReconciled> {
  const result: ChildrenReconciled = { outcomes: new Map() };
  const record = (child: Child<Input, Owner>, outcome: ChildOutcome) => {
    result.outcomes.set(child.name, outcome);
    if (outcome.condition) conditions.push(outcome.condition);
  };
  let batch: Child<Input, Owner>[] = [];
  const flush = async () => {
    const outcomes = await Promise.all(
      batch.map(child => child.reconcile(ctx, input)),
    );
    batch.forEach((child, i) => record(child, outcomes[i]));
    batch = [];
  };
  for (const child of registry.children) {
    if (!present(child, ctx.features)) continue;
    if (!child.gate) {
      batch.push(child);
      continue;
    }
    await flush();
    const outcome = await child.reconcile(ctx, input);
    record(child, outcome);
    if (outcome.condition && outcome.condition.status !== 'True') {
      result.blocked = outcome.condition;
      return result;
    }
  }
  await flush();
  return result;
}

/**
 * Removes the children in reverse order. With `waitForEach` a child that is
 * not gone yet stops the walk (the ones before it wait); without, every
 * child is asked to go. True once all are gone.
 */
export async function removeChildren<Input, Owner>(
  registry: ChildRegistry<Input, Owner>,
  ctx: ReconcileContext,
  owner: Owner,
  options: { waitForEach: boolean },
): Promise<boolean> {
  let gone = true;
  for (const child of [...registry.children].reverse()) {
    if (!present(child, ctx.features)) continue;
    if (!(await child.remove(ctx, owner))) {
      gone = false;
      if (options.waitForEach) return false;
    }
  }
  return gone;
}
