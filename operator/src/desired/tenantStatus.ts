/** Tenant usage, read from the ResourceQuota's status. */
import { TenantStatus } from '@paved/plugin-paved-common';
import { KubeObject } from '../kube/types';
import { QUOTA_COUNT_APPS } from './names';

export function tenantUsage(
  quota: KubeObject | undefined,
): TenantStatus['usage'] | undefined {
  const status = quota?.status as
    | { hard?: Record<string, string>; used?: Record<string, string> }
    | undefined;
  if (!status?.hard) return undefined;
  const pick = (key: string) => ({
    ...(status.used?.[key] !== undefined ? { used: status.used[key] } : {}),
    ...(status.hard?.[key] !== undefined ? { hard: status.hard[key] } : {}),
  });
  return {
    cpu: pick('requests.cpu'),
    memory: pick('requests.memory'),
    apps: pick(QUOTA_COUNT_APPS),
  };
}
