/**
 * A tenant's ResourceQuota (its plan's CPU and memory, with the tenant's
 * overrides; `maxApps` is enforced by the AppReconciler, see the README)
 * and a LimitRange whose defaults let a container that sets no resources be
 * admitted under the quota.
 *
 * The quota bounds CPU requests, and memory requests and limits. CPU limits
 * are left out on purpose: Knative's queue-proxy sets none (CPU is
 * compressible, throttling the proxy slows every request), and a quota on
 * limits.cpu would make the LimitRange give it a large default limit that
 * counts against the plan — the free plan could then run one instance.
 */
import {
  effectiveLimits,
  Plan,
  PlanLimits,
  TenantResource,
} from '@paved/plugin-paved-common';
import { pavedLabels } from './refs';
import { KubeObject } from '@paved/kube';
import { DesiredStateConfig } from './config';
import { namespaceName } from './namespace';
import { LIMIT_RANGE, RESOURCE_QUOTA } from './names';

/** Thrown when a Tenant names a plan the catalogue does not have. */
export class UnknownPlanError extends Error {
  constructor(plan: string, plans: readonly Plan[]) {
    super(
      `Plan "${plan}" is not in the plan catalogue; use one of ${plans
        .map(p => p.name)
        .join(', ')}`,
    );
    this.name = 'UnknownPlanError';
  }
}

export function tenantLimits(
  tenant: TenantResource,
  config: DesiredStateConfig,
): PlanLimits {
  const { limits } = tenant.spec;
  // The backend writes the plan's resolved limits into spec.limits, so a plan
  // that exists only in Backstage's app-config needs no copy here.
  if (limits?.cpu && limits.memory && limits.maxApps !== undefined) {
    return { cpu: limits.cpu, memory: limits.memory, maxApps: limits.maxApps };
  }
  const plan = config.plans.find(p => p.name === tenant.spec.plan);
  if (!plan) throw new UnknownPlanError(tenant.spec.plan, config.plans);
  return effectiveLimits(plan, tenant.spec.limits);
}

export function desiredResourceQuota(
  tenant: TenantResource,
  config: DesiredStateConfig,
): KubeObject {
  const limits = tenantLimits(tenant, config);
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: {
      name: RESOURCE_QUOTA,
      namespace: namespaceName(tenant.metadata.name, config),
      labels: pavedLabels(tenant.metadata.name),
    },
    spec: {
      hard: {
        'requests.cpu': limits.cpu,
        'requests.memory': limits.memory,
        'limits.memory': limits.memory,
      },
    },
  };
}

export function desiredLimitRange(
  tenant: TenantResource,
  config: DesiredStateConfig,
): KubeObject {
  const { cpu, memory } = config.containerDefaults;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: {
      name: LIMIT_RANGE,
      namespace: namespaceName(tenant.metadata.name, config),
      labels: pavedLabels(tenant.metadata.name),
    },
    spec: {
      limits: [
        {
          type: 'Container',
          defaultRequest: { cpu, memory },
          default: { memory },
        },
      ],
    },
  };
}
