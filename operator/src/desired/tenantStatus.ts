/**
 * Tenant usage: CPU and memory from the ResourceQuota's status, apps counted
 * by the operator.
 */
import { TenantStatus } from '@paved/plugin-paved-common';
import { KubeObject } from '../kube/types';

export function tenantUsage(
  quota: KubeObject | undefined,
  apps: { used: number; hard: number },
): TenantStatus['usage'] | undefined {
  const status = quota?.status as
    | { hard?: Record<string, string>; used?: Record<string, string> }
    | undefined;
  const appUsage = { used: String(apps.used), hard: String(apps.hard) };
  if (!status?.hard) return { apps: appUsage };
  const pick = (key: string) => ({
    ...(status.used?.[key] !== undefined ? { used: status.used[key] } : {}),
    ...(status.hard?.[key] !== undefined ? { hard: status.hard[key] } : {}),
  });
  return {
    cpu: pick('requests.cpu'),
    memory: pick('requests.memory'),
    apps: appUsage,
  };
}
