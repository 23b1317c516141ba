/**
 * The plan catalogue: what a tenant gets by plan. Defined once here; a
 * platform team overrides or extends it under `paved.plans` in app-config.
 */
import { z } from 'zod';
import { cpuProblem, memoryProblem } from './validation';

/** What an app instance gets when its spec says nothing. */
export const DEFAULT_APP_RESOURCES = Object.freeze({
  cpu: '250m',
  memory: '256Mi',
});

/**
 * What Knative's queue-proxy sidecar in every instance is given (set by the
 * operator on each revision, so it does not depend on the cluster's Knative
 * config or fall to the tenant's LimitRange defaults). A plan's quota pays
 * for it too.
 */
export const QUEUE_PROXY_RESOURCES = Object.freeze({
  cpu: '25m',
  memory: '64Mi',
});

/**
 * Each plan holds what it promises: all its apps running one instance of the
 * default size, plus one more instance while a new revision rolls out
 * (plans.test.ts checks this).
 */
export const DEFAULT_PLANS: readonly Plan[] = Object.freeze([
  {
    name: 'free',
    description: 'For trying things out',
    cpu: '1500m',
    memory: '1536Mi',
    maxApps: 3,
  },
  {
    name: 'starter',
    description: 'For a small team',
    cpu: '4',
    memory: '8Gi',
    maxApps: 10,
  },
  {
    name: 'pro',
    description: 'For production services',
    cpu: '16',
    memory: '32Gi',
    maxApps: 50,
  },
  {
    name: 'enterprise',
    description: 'For large product groups',
    cpu: '64',
    memory: '128Gi',
    maxApps: 200,
  },
]);

export const DEFAULT_PLAN_NAME = 'free';

export const MAX_APPS_LIMIT = 1000;

/** A plan name: lowercase letters, digits and "-", starting with a letter. */
export const PLAN_NAME_PATTERN = /^[a-z][-a-z0-9]{0,30}$/;

export const cpuQuantitySchema = z.string().superRefine((value, ctx) => {
  const problem = cpuProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const memoryQuantitySchema = z.string().superRefine((value, ctx) => {
  const problem = memoryProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const maxAppsSchema = z
  .number({ error: 'maxApps must be a number' })
  .int({ error: 'maxApps must be a whole number' })
  .min(1, { error: 'maxApps must be at least 1' })
  .max(MAX_APPS_LIMIT, { error: `maxApps must be at most ${MAX_APPS_LIMIT}` });

/** What a tenant gets: the limits of a plan, or a tenant's effective limits. */
export const planLimitsSchema = z
  .object({
    cpu: cpuQuantitySchema.describe(
      "Total CPU the tenant's instances may request, as a quantity",
    ),
    memory: memoryQuantitySchema.describe(
      "Total memory the tenant's instances may request (and be limited to)",
    ),
    maxApps: maxAppsSchema.describe('How many apps the tenant may have'),
  })
  .strict();
export type PlanLimits = z.infer<typeof planLimitsSchema>;

/** A plan of the catalogue. */
export const planSchema = planLimitsSchema
  .extend({
    name: z.string().regex(PLAN_NAME_PATTERN).describe('The plan name'),
    description: z.string(),
  })
  .strict();
export type Plan = z.infer<typeof planSchema>;

const configuredPlanSchema = z.object({
  description: z.string().max(200).optional(),
  cpu: cpuQuantitySchema,
  memory: memoryQuantitySchema,
  maxApps: maxAppsSchema,
});

/**
 * Builds the catalogue from `paved.plans` config: an object keyed by plan name.
 * Entries replace the default plan of the same name; new names add plans.
 */
export function resolvePlans(configured?: unknown): Plan[] {
  const plans = new Map(DEFAULT_PLANS.map(plan => [plan.name, { ...plan }]));
  if (configured === undefined || configured === null) {
    return [...plans.values()];
  }
  const parsed = z
    .record(
      z.string().regex(PLAN_NAME_PATTERN, {
        error: 'plan names are lowercase letters, digits and "-"',
      }),
      configuredPlanSchema,
    )
    .safeParse(configured);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `Invalid paved.plans config at ${['paved', 'plans', ...issue.path].join(
        '.',
      )}: ${issue.message}`,
    );
  }
  for (const [name, plan] of Object.entries(parsed.data)) {
    plans.set(name, {
      name,
      description: plan.description ?? plans.get(name)?.description ?? name,
      cpu: plan.cpu,
      memory: plan.memory,
      maxApps: plan.maxApps,
    });
  }
  return [...plans.values()];
}

/** The effective limits of a tenant: its plan's, with any overrides on top. */
export function effectiveLimits(
  plan: PlanLimits,
  overrides?: Partial<PlanLimits>,
): PlanLimits {
  return {
    cpu: overrides?.cpu ?? plan.cpu,
    memory: overrides?.memory ?? plan.memory,
    maxApps: overrides?.maxApps ?? plan.maxApps,
  };
}
