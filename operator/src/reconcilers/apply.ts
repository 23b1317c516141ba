/**
 * Server-side apply of a child object, skipped when the cached copy already
 * holds every field we want, so a steady-state reconcile writes nothing.
 */
import { KubeClient, KubeObject, ResourceType } from '@paved/kube';

/**
 * True when every field of `desired` has the same value in `actual`. An empty
 * list or map counts as absent: the API server does not store them
 * (`omitempty`), so comparing them by value would re-apply for ever.
 */
export function containsDesired(desired: unknown, actual: unknown): boolean {
  if (desired === actual) return true;
  if (actual === undefined && isEmpty(desired)) return true;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      desired.length === actual.length &&
      desired.every((d, i) => containsDesired(d, actual[i]))
    );
  }
  if (desired && typeof desired === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) {
      return false;
    }
    return Object.entries(desired).every(([key, value]) =>
      containsDesired(value, (actual as Record<string, unknown>)[key]),
    );
  }
  return false;
}

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return (
    !!value && typeof value === 'object' && Object.keys(value).length === 0
  );
}

/** Applies `desired` unless `current` already matches; returns what is live. */
export async function applyChild(
  client: KubeClient,
  type: ResourceType,
  desired: KubeObject,
  current: KubeObject | undefined,
): Promise<KubeObject> {
  if (
    current &&
    !current.metadata.deletionTimestamp &&
    containsDesired(desired.metadata.labels ?? {}, current.metadata.labels) &&
    containsDesired(
      desired.metadata.ownerReferences ?? [],
      current.metadata.ownerReferences ?? [],
    ) &&
    containsDesired(
      Object.fromEntries(
        Object.entries(desired).filter(
          ([k]) => !['metadata', 'apiVersion', 'kind'].includes(k),
        ),
      ),
      current,
    )
  ) {
    return current;
  }
  return client.apply(type, desired);
}
