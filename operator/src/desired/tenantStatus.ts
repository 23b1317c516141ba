/**
 * Tenant usage: CPU and memory from the ResourceQuota's status, apps counted
 * by the operator. Each figure is the quota line that limits: of the
 * requests and limits a quota bounds, the one nearest its hard value.
 */
import {
  parseCpuMillis,
  parseMemoryBytes,
  TenantStatus,
} from '@paved/plugin-paved-common';
import { KubeObject } from '@paved/kube';

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
  const nearestToHard = (
    keys: string[],
    parse: (quantity: string) => number | undefined,
  ) => {
    const share = (key: string) => {
      const used = parse(status.used?.[key] ?? '0') ?? 0;
      const hard = parse(status.hard?.[key] ?? '');
      return hard ? used / hard : -1;
    };
    const bounded = keys.filter(key => status.hard?.[key] !== undefined);
    if (!bounded.length) return pick(keys[0]);
    return pick(bounded.reduce((a, b) => (share(b) > share(a) ? b : a)));
  };
  return {
    cpu: nearestToHard(['requests.cpu', 'limits.cpu'], parseCpuMillis),
    memory: nearestToHard(
      ['requests.memory', 'limits.memory'],
      parseMemoryBytes,
    ),
    apps: appUsage,
  };
}
