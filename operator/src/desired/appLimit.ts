/**
 * `maxApps` of a tenant, enforced by the operator rather than by an
 * object-count ResourceQuota: a count quota on a custom resource refuses
 * every App until kube-controller-manager has discovered the CRD and filled
 * in the quota's status, which makes a new tenant unusable for a while.
 * Apps already running (`admitted`: they have a Knative Service) keep their
 * place, then the oldest win (creation times have one-second resolution, so
 * ties go by name); apps being deleted do not count.
 */
import { KubeObject } from '@paved/kube';

export function appsOverLimit(
  apps: KubeObject[],
  maxApps: number,
  admitted: ReadonlySet<string> = new Set(),
): Set<string> {
  const counted = apps
    .filter(a => !a.metadata.deletionTimestamp)
    .sort(
      (a, b) =>
        Number(admitted.has(b.metadata.name)) -
          Number(admitted.has(a.metadata.name)) ||
        (a.metadata.creationTimestamp ?? '').localeCompare(
          b.metadata.creationTimestamp ?? '',
        ) ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  return new Set(counted.slice(maxApps).map(a => a.metadata.name));
}
