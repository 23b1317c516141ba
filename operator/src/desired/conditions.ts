/**
 * metav1.Condition bookkeeping: a condition's lastTransitionTime changes only
 * when its status flips, never when only its reason or message do.
 */
import { Condition } from '@paved/plugin-paved-common';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export function setCondition(
  existing: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date = new Date(),
): Condition[] {
  const conditions = [...(existing ?? [])];
  const index = conditions.findIndex(c => c.type === next.type);
  const previous = index >= 0 ? conditions[index] : undefined;
  const updated: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    ...(next.observedGeneration !== undefined
      ? { observedGeneration: next.observedGeneration }
      : {}),
    lastTransitionTime:
      previous && previous.status === next.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (index >= 0) conditions[index] = updated;
  else conditions.push(updated);
  return conditions;
}

/** Sets several conditions at once, in order. */
export function setConditions(
  existing: readonly Condition[] | undefined,
  next: ConditionInput[],
  now: Date = new Date(),
): Condition[] {
  return next.reduce<Condition[]>(
    (acc, input) => setCondition(acc, input, now),
    [...(existing ?? [])],
  );
}

export type ConditionStatus = ConditionInput['status'];

/**
 * One condition of `owner` (a Tenant or App) at its current generation: the
 * one way conditions are written, instead of object literals.
 */
export function condition(
  owner: { metadata: { generation?: number } },
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
): ConditionInput {
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: owner.metadata.generation,
  };
}
