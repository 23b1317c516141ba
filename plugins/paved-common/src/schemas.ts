/**
 * zod schemas of the Tenant and App custom resources (spec and status). They
 * validate API input, type the code, and generate the CRDs (see ./crds.ts), so
 * a field is declared here and nowhere else.
 *
 * `.meta({ pattern })` carries a Go-RE2-compatible pattern into the CRD where
 * the zod check is a function with better messages.
 */
import { z } from 'zod';
import {
  appNameProblem,
  DNS_LABEL_PATTERN,
  DOMAIN_PATTERN,
  domainProblem,
  ENV_NAME_MAX_LENGTH,
  ENV_NAME_PATTERN,
  envNameProblem,
  GROUP_REF_PATTERN,
  groupRefProblem,
  IMAGE_MAX_LENGTH,
  IMAGE_PATTERN,
  imageProblem,
  portProblem,
  tenantNameProblem,
  TENANT_NAME_MAX_LENGTH,
  APP_NAME_MAX_LENGTH,
  CPU_QUANTITY_PATTERN,
  MEMORY_QUANTITY_PATTERN,
} from './validation';
import {
  cpuQuantitySchema,
  DEFAULT_APP_RESOURCES,
  DEFAULT_PLAN_NAME,
  PLAN_NAME_PATTERN,
  maxAppsSchema,
  memoryQuantitySchema,
} from './plans';

/** A string schema checked by one of the `…Problem` functions. */
function checkedString(
  problem: (value: string) => string | undefined,
  crd: { pattern?: string; maxLength?: number } = {},
) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const message = problem(value);
      if (message) ctx.addIssue({ code: 'custom', message });
    })
    .meta(crd);
}

export const tenantNameSchema = checkedString(tenantNameProblem, {
  pattern: DNS_LABEL_PATTERN,
  maxLength: TENANT_NAME_MAX_LENGTH,
}).describe(
  `Tenant name: lowercase letters, digits and "-", starting with a letter, at most ${TENANT_NAME_MAX_LENGTH} characters. The namespace will be tenant-<name>.`,
);
export const appNameSchema = checkedString(appNameProblem, {
  pattern: DNS_LABEL_PATTERN,
  maxLength: APP_NAME_MAX_LENGTH,
}).describe(
  `App name: lowercase letters, digits and "-", starting with a letter, at most ${APP_NAME_MAX_LENGTH} characters`,
);
export const imageSchema = checkedString(imageProblem, {
  pattern: IMAGE_PATTERN,
  maxLength: IMAGE_MAX_LENGTH,
}).describe(
  'Container image with a tag or digest, e.g. ghcr.io/acme/web:1.4.2',
);
export const domainSchema = checkedString(domainProblem, {
  pattern: DOMAIN_PATTERN,
  maxLength: 253,
});
export const envNameSchema = checkedString(envNameProblem, {
  pattern: ENV_NAME_PATTERN,
  maxLength: ENV_NAME_MAX_LENGTH,
}).describe('Variable name, e.g. LOG_LEVEL');
export const groupRefSchema = checkedString(groupRefProblem, {
  pattern: GROUP_REF_PATTERN,
  maxLength: 253,
}).describe(
  'The owner group entity ref, e.g. group:default/team-a. Its members manage the tenant and its apps.',
);

export const portSchema = z
  .number({ error: 'Port must be a number, such as 8080' })
  .int({ error: 'Port must be a whole number, such as 8080' })
  .superRefine((value, ctx) => {
    const message = portProblem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  })
  .meta({ minimum: 1, maximum: 65535 })
  .describe('The port the container listens on');

const cpuSchema = cpuQuantitySchema.meta({ pattern: CPU_QUANTITY_PATTERN });
const memorySchema = memoryQuantitySchema.meta({
  pattern: MEMORY_QUANTITY_PATTERN,
});

export const ENV_VALUE_MAX_LENGTH = 32 * 1024;
export const ENV_MAX_ENTRIES = 100;
export const DOMAINS_MAX_ENTRIES = 20;
/**
 * Most bytes of env var names and values an app may hold in all, secret
 * values included: what the App resource, its Secret and every Knative
 * revision carry must stay far below what the API server stores (about
 * 1.5 MiB an object), however many writes built it up.
 */
export const ENV_TOTAL_MAX_BYTES = 128 * 1024;

/** A custom domain that serves HTTPS: its TLS Secret in the tenant namespace. */
export const domainTlsSchema = z
  .object({
    domain: domainSchema,
    secretName: z
      .string()
      .max(253)
      .describe('The kubernetes.io/tls Secret in the app namespace'),
    notAfter: z
      .string()
      .optional()
      .describe('When the certificate expires (ISO-8601)'),
  })
  .strict();
export type DomainTls = z.infer<typeof domainTlsSchema>;

/** What the operator saw of one custom domain (App status). */
export const appDomainStatusSchema = z
  .object({
    domain: domainSchema,
    state: z
      .enum(['Mapped', 'Pending', 'Taken', 'Failed'])
      .describe(
        'Mapped: routes to the app; Taken: another namespace holds the domain claim',
      ),
    tls: z.boolean().describe('The mapping serves the TLS Secret'),
    url: z.string().optional(),
    message: z.string().optional(),
  })
  .strict();
export type AppDomainStatus = z.infer<typeof appDomainStatusSchema>;
export const MAX_INSTANCES_LIMIT = 100;

// ---------------------------------------------------------------- conditions

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  observedGeneration: z.number().int().optional(),
  lastTransitionTime: z.string(),
});
export type Condition = z.infer<typeof conditionSchema>;

// -------------------------------------------------------------------- tenant

export const tenantLimitsSchema = z
  .object({
    cpu: cpuSchema.optional(),
    memory: memorySchema.optional(),
    maxApps: maxAppsSchema.optional(),
  })
  .strict()
  .describe('Limits that override the plan');

export const tenantSpecSchema = z
  .object({
    displayName: z
      .string()
      .min(1, { error: 'Display name is empty' })
      .max(100, { error: 'Display name must be at most 100 characters' })
      .describe('Human-readable name of the tenant'),
    owner: groupRefSchema,
    plan: z
      .string()
      .regex(PLAN_NAME_PATTERN, {
        error: 'Plan must be a plan name such as "free" or "pro"',
      })
      .default(DEFAULT_PLAN_NAME)
      .describe(
        'A plan from the plan catalogue: free, starter, pro, enterprise or one your platform team added',
      ),
    limits: tenantLimitsSchema.optional(),
    networkIsolation: z
      .boolean()
      .default(true)
      .describe('Deny traffic from other tenants and to private networks'),
  })
  .strict();
export type TenantSpec = z.output<typeof tenantSpecSchema>;
export type TenantSpecInput = z.input<typeof tenantSpecSchema>;

export const TENANT_PHASES = [
  'Pending',
  'Active',
  'Deleting',
  'Failed',
] as const;
export type TenantPhase = (typeof TENANT_PHASES)[number];

const usageSchema = z.object({
  used: z.string().optional(),
  hard: z.string().optional(),
});

export const tenantStatusSchema = z.object({
  phase: z.enum(TENANT_PHASES).optional(),
  namespace: z.string().optional(),
  appCount: z.number().int().optional(),
  usage: z
    .object({
      cpu: usageSchema.optional(),
      memory: usageSchema.optional(),
      apps: usageSchema.optional(),
    })
    .optional(),
  conditions: z.array(conditionSchema).optional(),
  observedGeneration: z.number().int().optional(),
});
export type TenantStatus = z.infer<typeof tenantStatusSchema>;

// ----------------------------------------------------------------------- app

export const secretKeyRefSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/)
      .max(253),
    key: z
      .string()
      .regex(/^[-._a-zA-Z0-9]+$/)
      .max(253),
  })
  .strict();

export const envVarSchema = z
  .object({
    name: envNameSchema,
    value: z
      .string()
      .max(ENV_VALUE_MAX_LENGTH, {
        error: `Env var value must be at most ${ENV_VALUE_MAX_LENGTH} characters`,
      })
      .optional(),
    secretKeyRef: secretKeyRefSchema
      .optional()
      .describe(
        'A key of a Secret the platform manages in the tenant namespace',
      ),
  })
  .strict()
  .refine(v => (v.value === undefined) !== (v.secretKeyRef === undefined), {
    error: 'Give an env var either a value or a secretKeyRef, not both',
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'has(self.value) != has(self.secretKeyRef)',
        message: 'set exactly one of value and secretKeyRef',
      },
    ],
  });
export type EnvVar = z.infer<typeof envVarSchema>;

export const scalingSchema = z
  .object({
    minInstances: z
      .number()
      .int({ error: 'minInstances must be a whole number' })
      .min(0, { error: 'minInstances must be 0 (scale to zero) or more' })
      .max(MAX_INSTANCES_LIMIT, {
        error: `minInstances must be at most ${MAX_INSTANCES_LIMIT}`,
      })
      .default(0)
      .describe('Instances kept running when idle; 0 scales to zero'),
    maxInstances: z
      .number()
      .int({ error: 'maxInstances must be a whole number' })
      .min(1, { error: 'maxInstances must be at least 1' })
      .max(MAX_INSTANCES_LIMIT, {
        error: `maxInstances must be at most ${MAX_INSTANCES_LIMIT}`,
      })
      .default(10)
      .describe('Most instances under load'),
    targetConcurrency: z
      .number()
      .int({ error: 'targetConcurrency must be a whole number' })
      .min(1, { error: 'targetConcurrency must be at least 1' })
      .max(1000, { error: 'targetConcurrency must be at most 1000' })
      .default(100)
      .describe('Concurrent requests per instance before scaling out'),
  })
  .strict()
  .refine(s => s.minInstances <= s.maxInstances, {
    error: 'minInstances must not be greater than maxInstances',
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'self.minInstances <= self.maxInstances',
        message: 'minInstances must not be greater than maxInstances',
      },
    ],
  });

export const resourcesSchema = z
  .object({
    cpu: cpuSchema
      .default(DEFAULT_APP_RESOURCES.cpu)
      .describe('CPU per instance, e.g. 250m or 1'),
    memory: memorySchema
      .default(DEFAULT_APP_RESOURCES.memory)
      .describe('Memory per instance, e.g. 256Mi or 1Gi'),
  })
  .strict();

export const appSpecSchema = z
  .object({
    image: imageSchema,
    port: portSchema.default(8080),
    env: z
      .array(envVarSchema)
      .max(ENV_MAX_ENTRIES, {
        error: `At most ${ENV_MAX_ENTRIES} env vars are allowed`,
      })
      .default([])
      .meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      })
      .superRefine((env, ctx) => {
        const seen = new Set<string>();
        env.forEach((entry, index) => {
          if (seen.has(entry.name)) {
            ctx.addIssue({
              code: 'custom',
              path: [index, 'name'],
              message: `Env var ${entry.name} is set twice; keep one`,
            });
          }
          seen.add(entry.name);
        });
      }),
    scaling: scalingSchema.default({
      minInstances: 0,
      maxInstances: 10,
      targetConcurrency: 100,
    }),
    resources: resourcesSchema.default({ ...DEFAULT_APP_RESOURCES }),
    domains: z
      .array(domainSchema)
      .max(DOMAINS_MAX_ENTRIES, {
        error: `At most ${DOMAINS_MAX_ENTRIES} domains are allowed`,
      })
      .default([])
      .meta({ 'x-kubernetes-list-type': 'set' })
      .superRefine((domains, ctx) => {
        if (new Set(domains).size !== domains.length) {
          ctx.addIssue({ code: 'custom', message: 'Domains must be unique' });
        }
      }),
    tls: z
      .array(domainTlsSchema)
      .max(DOMAINS_MAX_ENTRIES)
      .optional()
      .meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['domain'],
      })
      .describe(
        'The domains that serve HTTPS and the Secret (kubernetes.io/tls, written by the platform) with their certificate; set by the backend from the certificates it stores',
      ),
    paused: z.boolean().default(false).describe('Scale to zero and hold there'),
  })
  .strict();
export type AppSpec = z.output<typeof appSpecSchema>;
export type AppSpecInput = z.input<typeof appSpecSchema>;

export const APP_PHASES = [
  'Pending',
  'Deploying',
  'Ready',
  'Failed',
  'Paused',
  'Deleting',
] as const;
export type AppPhase = (typeof APP_PHASES)[number];

export const appStatusSchema = z.object({
  phase: z.enum(APP_PHASES).optional(),
  url: z.string().optional(),
  latestCreatedRevision: z.string().optional(),
  latestReadyRevision: z.string().optional(),
  instances: z
    .object({
      desired: z.number().int().optional(),
      ready: z.number().int().optional(),
    })
    .optional(),
  conditions: z.array(conditionSchema).optional(),
  message: z
    .string()
    .optional()
    .describe('Why the app is not ready, in words the user can act on'),
  domains: z
    .array(appDomainStatusSchema)
    .optional()
    .describe('Each custom domain as the cluster serves it'),
  observedGeneration: z.number().int().optional(),
});
export type AppStatus = z.infer<typeof appStatusSchema>;

// -------------------------------------------------------------- the objects

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

export interface TenantResource {
  apiVersion: 'paved.dev/v1alpha1';
  kind: 'Tenant';
  metadata: ObjectMeta;
  spec: TenantSpec;
  status?: TenantStatus;
}

export interface AppResource {
  apiVersion: 'paved.dev/v1alpha1';
  kind: 'App';
  metadata: ObjectMeta;
  spec: AppSpec;
  status?: AppStatus;
}
