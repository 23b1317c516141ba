/**
 * Request bodies of the REST API as zod schemas, built from paved-common's
 * schemas so the API rejects exactly what the CRDs would, with messages that
 * say what to fix. The OpenAPI document is generated from these too.
 */
import { InputError } from '@backstage/errors';
import {
  ENV_VALUE_MAX_LENGTH,
  appNameSchema,
  appSpecSchema,
  envNameSchema,
  resourcesSchema,
  scalingSchema,
  tenantLimitsSchema,
  tenantNameSchema,
  tenantSpecSchema,
} from '@paved/plugin-paved-common';
import { z } from 'zod';

const expectedGeneration = z
  .number({ error: 'expectedGeneration must be a number' })
  .int({ error: 'expectedGeneration must be a whole number' })
  .min(0, { error: 'expectedGeneration must be 0 or more' })
  .optional()
  .describe(
    'The generation you last read; the write fails with 409 if the object changed since',
  );

export const createTenantRequestSchema = tenantSpecSchema
  .extend({ name: tenantNameSchema.describe('Tenant name (a DNS label)') })
  .strict();

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

export const envVarInputSchema = z
  .object({
    name: envNameSchema,
    value: z
      .string({ error: 'Env var value must be a string' })
      .max(ENV_VALUE_MAX_LENGTH, {
        error: `Env var value must be at most ${ENV_VALUE_MAX_LENGTH} characters`,
      }),
    secret: z
      .boolean()
      .optional()
      .describe(
        'Store the value in a Kubernetes Secret; it is never returned, only masked',
      ),
  })
  .strict();

export const deployAppRequestSchema = z
  .object({
    image: appSpecSchema.shape.image,
    port: appSpecSchema.shape.port.unwrap().optional(),
    env: z.array(envVarInputSchema).optional(),
    scaling: scalingSchema.optional(),
    resources: resourcesSchema.optional(),
    domains: appSpecSchema.shape.domains.unwrap().optional(),
    paused: z.boolean().optional(),
    expectedGeneration,
  })
  .strict();

export const patchEnvRequestSchema = z
  .object({
    set: z.array(envVarInputSchema).optional(),
    remove: z.array(envNameSchema).optional(),
    expectedGeneration,
  })
  .strict()
  .refine(body => (body.set?.length ?? 0) + (body.remove?.length ?? 0) > 0, {
    error: 'Give env vars to set or names to remove',
  });

export const rollbackRequestSchema = z
  .object({
    revision: z
      .number({ error: 'revision must be a number from the revision history' })
      .int({ error: 'revision must be a whole number' })
      .min(1, { error: 'revision must be at least 1' }),
    expectedGeneration,
  })
  .strict();

export const emptyRequestSchema = z
  .object({ expectedGeneration })
  .strict()
  .optional();

/** Formats zod issues as `field: what to fix` pairs. */
export function describeIssues(error: z.ZodError, prefix?: string): string {
  return error.issues
    .map(issue => {
      const path = [prefix, ...issue.path.map(String)]
        .filter(Boolean)
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

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
