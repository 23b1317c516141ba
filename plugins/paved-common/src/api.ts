/**
 * The REST API of the Paved backend (`/api/paved`) as zod schemas: every
 * request body and every answer, built from the Tenant and App schemas of
 * ./schemas.ts. They are the one source of the API's TypeScript types (the
 * `z.infer`s below), of the router's validation (`parseInput`), of the
 * OpenAPI document (./openapi.ts) and of the scaffolder actions' inputs
 * (./actionInputs.ts), so a change to a field is one edit here or in
 * ./schemas.ts.
 */
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import {
  ENV_VALUE_MAX_LENGTH,
  appNameSchema,
  appSpecSchema,
  appStatusSchema,
  envNameSchema,
  groupRefSchema,
  resourcesSchema,
  scalingSchema,
  tenantLimitsSchema,
  tenantNameSchema,
  tenantSpecSchema,
  tenantStatusSchema,
} from './schemas';
import { planLimitsSchema, planSchema } from './plans';
import { domainViewSchema } from './domains';
import { pageSchema } from './history';
import { describeIssues } from './issues';

export { describeIssues };

/** The mask shown instead of a secret value. */
export const SECRET_MASK = '********';

// ------------------------------------------------------------------ requests

export const expectedGenerationSchema = z
  .number({ error: 'expectedGeneration must be a number' })
  .int({ error: 'expectedGeneration must be a whole number' })
  .min(0, { error: 'expectedGeneration must be 0 or more' })
  .describe(
    'The generation you last read; the write fails with 409 if the object changed since',
  );
const expectedGeneration = expectedGenerationSchema.optional();

export const createTenantRequestSchema = tenantSpecSchema
  .extend({ name: tenantNameSchema })
  .strict();
export type CreateTenantRequest = z.input<typeof createTenantRequestSchema>;

export const updateTenantRequestSchema = z
  .object({
    displayName: tenantSpecSchema.shape.displayName.optional(),
    plan: tenantSpecSchema.shape.plan.unwrap().optional(),
    limits: tenantLimitsSchema
      .nullable()
      .optional()
      .describe('Overrides of the plan limits; null removes them'),
    networkIsolation: z.boolean().optional(),
    expectedGeneration,
  })
  .strict();
export type UpdateTenantRequest = z.input<typeof updateTenantRequestSchema>;

/**
 * An env var as the API takes it: a plain value, or a secret value that is
 * stored in a Kubernetes Secret in the tenant namespace and never returned.
 */
export const envVarInputSchema = z
  .object({
    name: envNameSchema,
    value: z
      .string({ error: 'Env var value must be a string' })
      .max(ENV_VALUE_MAX_LENGTH, {
        error: `Env var value must be at most ${ENV_VALUE_MAX_LENGTH} characters`,
      })
      .describe('Variable value'),
    secret: z
      .boolean()
      .optional()
      .describe(
        'Store the value in a Kubernetes Secret; it is never returned, only masked',
      ),
  })
  .strict();
export type EnvVarInput = z.input<typeof envVarInputSchema>;

export const deployAppRequestSchema = z
  .object({
    image: appSpecSchema.shape.image,
    port: appSpecSchema.shape.port.unwrap().optional(),
    env: z
      .array(envVarInputSchema)
      .optional()
      .describe(
        'The complete env of the app. A secret entry whose value is the mask keeps the value saved before, so a client can send back what it read',
      ),
    scaling: scalingSchema.optional(),
    resources: resourcesSchema.optional(),
    domains: appSpecSchema.shape.domains.unwrap().optional(),
    paused: z.boolean().optional(),
    expectedGeneration: expectedGenerationSchema
      .optional()
      .describe(
        'The generation you last read; the write fails with 409 if the app changed since. Omit to create or overwrite',
      ),
  })
  .strict();
export type DeployAppRequest = z.input<typeof deployAppRequestSchema>;

export const patchEnvRequestSchema = z
  .object({
    set: z
      .array(envVarInputSchema)
      .optional()
      .describe('Entries to add or change'),
    remove: z.array(envNameSchema).optional().describe('Names to remove'),
    expectedGeneration,
  })
  .strict()
  .refine(body => (body.set?.length ?? 0) + (body.remove?.length ?? 0) > 0, {
    error: 'Give env vars to set or names to remove',
  });
export type PatchEnvRequest = z.input<typeof patchEnvRequestSchema>;

export const rollbackRequestSchema = z
  .object({
    revision: z
      .number({ error: 'revision must be a number from the revision history' })
      .int({ error: 'revision must be a whole number' })
      .min(1, { error: 'revision must be at least 1' })
      .describe('The revision whose config to go back to'),
    expectedGeneration,
  })
  .strict();
export type RollbackRequest = z.input<typeof rollbackRequestSchema>;

/** The body of pause, resume and redeploy: none, or only expectedGeneration. */
export const emptyRequestSchema = z
  .object({ expectedGeneration })
  .strict()
  .optional();

/** Optimistic concurrency for writes without a body of their own. */
export type WriteOptions = NonNullable<z.input<typeof emptyRequestSchema>>;

// ----------------------------------------------------------------- responses

const timestamp = (what: string) =>
  z.string().meta({ format: 'date-time' }).describe(what);

/** Where the cluster stands with respect to what was saved. */
export const syncViewSchema = z
  .object({
    generation: z
      .number()
      .int()
      .describe(
        "The backend's desired revision of the object, bumped by every write",
      ),
    appliedGeneration: z
      .number()
      .int()
      .describe('The last generation the API server accepted'),
    pending: z
      .boolean()
      .describe(
        'True when the cluster has not accepted the latest write yet; the sync job retries',
      ),
    lastError: z
      .string()
      .optional()
      .describe(
        'The last error from applying the object (or repairing drift), until it is fixed',
      ),
  })
  .strict()
  .describe('Whether the cluster accepted the latest write');
export type SyncView = z.infer<typeof syncViewSchema>;

/** What the backend adds to the status from the cluster. */
const knownShape = {
  known: z
    .boolean()
    .describe(
      'False when the backend has no watch data for the object (cluster down, not yet created)',
    ),
  current: z
    .boolean()
    .optional()
    .describe(
      "True when the status describes the config as last saved: the cluster's object carries the saved generation (its paved.dev/backend-generation annotation) and the operator has observed its spec (status.observedGeneration equals metadata.generation); absent otherwise",
    ),
};
const KNOWN_STATUS =
  'Status from the cluster, read from a watch-fed cache; known is false when the cluster has not told';

/** Status from the cluster; `known: false` when the cluster did not tell yet. */
export type KnownStatus<T> = T & {
  /** False when the backend has no watch data for the object (cluster down, not yet created). */
  known: boolean;
  /**
   * True when the status describes the config as last saved: the cluster's
   * object carries the saved generation (its `paved.dev/backend-generation`
   * annotation, as the backend's cache last saw it) and the operator has
   * observed its spec (`status.observedGeneration` equals
   * `metadata.generation`), so the phase is not an earlier version's.
   * Absent otherwise.
   */
  current?: boolean;
};

export const planViewSchema = planSchema;
export type PlanView = z.infer<typeof planViewSchema>;

export const tenantViewSchema = z
  .object({
    name: tenantNameSchema,
    displayName: tenantSpecSchema.shape.displayName,
    owner: groupRefSchema,
    plan: tenantSpecSchema.shape.plan.unwrap(),
    limits: tenantLimitsSchema
      .optional()
      .describe('Overrides of the plan limits, as saved'),
    effectiveLimits: planLimitsSchema.describe(
      "The plan's limits with the overrides applied: what the operator enforces",
    ),
    networkIsolation: tenantSpecSchema.shape.networkIsolation.unwrap(),
    namespace: z.string().describe('The Kubernetes namespace of the tenant'),
    appCount: z.number().int(),
    createdAt: timestamp('When the tenant was created'),
    updatedAt: timestamp('When the tenant was last changed'),
    createdBy: z.string().describe('Who created the tenant'),
    sync: syncViewSchema,
    status: tenantStatusSchema
      .extend(knownShape)
      .strict()
      .describe(KNOWN_STATUS),
  })
  .strict();
export type TenantView = z.infer<typeof tenantViewSchema>;

/** An env var as the API returns it; secret values are masked. */
export const envVarViewSchema = z
  .object({
    name: z.string(),
    value: z.string().describe(`The value; ${SECRET_MASK} for secrets`),
    secret: z.boolean(),
  })
  .strict();
export type EnvVarView = z.infer<typeof envVarViewSchema>;

/** What an app is configured as: the part of AppView a revision keeps. */
const appConfigShape = {
  tenant: tenantNameSchema,
  name: appNameSchema,
  ref: z
    .string()
    .describe('<tenant>/<app>, as in the catalog annotation paved.dev/app'),
  namespace: z.string().describe('The Kubernetes namespace of the tenant'),
  image: appSpecSchema.shape.image,
  port: appSpecSchema.shape.port.unwrap(),
  env: z.array(envVarViewSchema),
  scaling: scalingSchema,
  resources: resourcesSchema,
  domains: appSpecSchema.shape.domains.unwrap(),
  paused: appSpecSchema.shape.paused.unwrap(),
  revision: z
    .number()
    .int()
    .describe('The revision number of the config (1 for the first deploy)'),
  updatedBy: z.string().describe('Who made the change'),
};

export const appViewSchema = z
  .object({
    ...appConfigShape,
    createdAt: timestamp('When the app was first deployed'),
    updatedAt: timestamp('When the app was last changed'),
    sync: syncViewSchema,
    status: appStatusSchema.extend(knownShape).strict().describe(KNOWN_STATUS),
    domainStatus: z
      .array(domainViewSchema)
      .describe('Each custom domain: its claim, TLS and URL'),
  })
  .strict();
export type AppView = z.infer<typeof appViewSchema>;
/**
 * A list of apps: all of them, or with `?limit=` a page, ordered by tenant
 * and name, with `nextCursor` while there are more.
 */
export const appPageSchema = pageSchema(appViewSchema);

export const revisionViewSchema = z
  .object({
    revision: z.number().int(),
    action: z.string().describe('What made the revision: deploy, rollback, …'),
    actor: z.string(),
    createdAt: timestamp('When the revision was made'),
    image: appSpecSchema.shape.image,
    config: z.object(appConfigShape).strict(),
  })
  .strict();
export type RevisionView = z.infer<typeof revisionViewSchema>;

/** The answer of DELETE /tenants/{tenant}: the deletion is under way. */
export const tenantDeletionSchema = z
  .object({ name: tenantNameSchema, deleting: z.literal(true) })
  .strict();
export type TenantDeletion = z.infer<typeof tenantDeletionSchema>;

/** The answer of DELETE /tenants/{tenant}/apps/{app}: the deletion is under way. */
export const appDeletionSchema = z
  .object({
    tenant: tenantNameSchema,
    name: appNameSchema,
    deleting: z.literal(true),
  })
  .strict();
export type AppDeletion = z.infer<typeof appDeletionSchema>;

/** A list answer: `{ items: [...] }`. */
export function listSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) }).strict();
}
export interface ListResponse<T> {
  items: T[];
}

/** The error body every failed request answers with (Backstage's format). */
export const errorResponseBodySchema = z.object({
  error: z.object({
    name: z
      .string()
      .describe('The kind of error, e.g. InputError, NotFoundError'),
    message: z.string().describe('What is wrong and what to do about it'),
  }),
  response: z.object({ statusCode: z.number().int() }),
  request: z
    .object({ method: z.string(), url: z.string() })
    .optional()
    .describe(
      "The request, echoed by Backstage's own error handler (a 401 for a token it refuses before Paved sees the request)",
    ),
});
export type ErrorResponseBody = z.infer<typeof errorResponseBodySchema>;

// ------------------------------------------------------------------ parsing

/** Parses input or throws an InputError (400) naming each bad field. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success && input === undefined) {
    throw new InputError(
      `Invalid ${what}: the request has no body; send a JSON object with Content-Type: application/json`,
    );
  }
  if (!result.success) {
    throw new InputError(`Invalid ${what}: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** The optional `?expectedGeneration=` of a DELETE. */
export function parseExpectedGenerationQuery(
  query: Record<string, unknown>,
): number | undefined {
  const unknown = Object.keys(query).filter(k => k !== 'expectedGeneration');
  if (unknown.length) {
    throw new InputError(
      `Unknown query parameter "${unknown[0]}"; the only one is expectedGeneration`,
    );
  }
  const raw = query.expectedGeneration;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) {
    throw new InputError(
      'Invalid query: expectedGeneration must be a whole number, given once (?expectedGeneration=3)',
    );
  }
  return Number(raw);
}

export function parseTenantName(value: string): string {
  return parseInput(tenantNameSchema, value, 'tenant name in the path');
}

export function parseAppName(value: string): string {
  return parseInput(appNameSchema, value, 'app name in the path');
}
