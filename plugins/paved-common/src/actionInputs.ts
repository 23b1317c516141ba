/**
 * The inputs of the Paved scaffolder actions, built from the API's schemas
 * (./api.ts, ./schemas.ts): a field's type, limit, default and description
 * are those of the API, so changing one is one edit. The actions parse their
 * input with these (which fills in the defaults) and publish
 * `actionInputJsonSchema(…)` as the input schema the Scaffolder shows and
 * checks.
 */
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { envVarInputSchema } from './api';
import {
  appNameSchema,
  appSpecSchema,
  groupRefSchema,
  resourcesSchema,
  scalingSchema,
  tenantNameSchema,
  tenantSpecSchema,
} from './schemas';

/** How long `paved:app:deploy` waits for Ready by default, and at most. */
export const DEPLOY_TIMEOUT_SECONDS = { default: 300, max: 3600 };

export const createTenantActionInputSchema = z
  .object({
    name: tenantNameSchema,
    // The API takes " ", which a template's empty-looking text field gives.
    displayName: tenantSpecSchema.shape.displayName.refine(
      value => value.trim() !== '',
      { error: 'Display name is empty' },
    ),
    owner: groupRefSchema,
    plan: tenantSpecSchema.shape.plan,
  })
  .strict();
export type CreateTenantActionInput = z.output<
  typeof createTenantActionInputSchema
>;

export const deployAppActionInputSchema = z
  .object({
    tenant: tenantNameSchema.describe('The tenant to deploy into'),
    name: appNameSchema,
    image: appSpecSchema.shape.image,
    port: appSpecSchema.shape.port,
    env: z
      .array(
        envVarInputSchema.extend({
          secret: envVarInputSchema.shape.secret.describe(
            'Refused when true: a plain input is stored in the task table in plaintext. Use secretEnv for secret values',
          ),
        }),
      )
      .default([])
      .describe(
        'Plain environment variables of the container (the task table keeps them): no secrets here, see secretEnv',
      ),
    secretEnv: z
      .array(
        z
          .object({
            name: z
              .string()
              .optional()
              .describe(
                'Variable name, e.g. DATABASE_URL; an entry without a name is skipped (an unused slot of a template)',
              ),
            secret: z
              .string()
              .describe(
                "The key of the task's secrets (ctx.secrets) that holds the value: the name of the template's `ui:field: Secret` parameter, or a key of `secrets` in POST /v2/tasks",
              ),
          })
          .strict(),
      )
      .default([])
      .describe(
        "Secret environment variables, their values read from the task's secrets (never from inputs or parameters), stored encrypted by Paved and applied as a Kubernetes Secret; the API shows them as ********",
      ),
    domains: z
      .array(z.string())
      .optional()
      .describe(
        'Custom domains of the app (host names such as shop.example.com), claimed for the tenant; left out, the app keeps the ones it has. A certificate is added with PUT /tenants/{tenant}/apps/{app}/domains/{domain}',
      ),
    minInstances: scalingSchema.shape.minInstances,
    maxInstances: scalingSchema.shape.maxInstances,
    targetConcurrency: scalingSchema.shape.targetConcurrency,
    cpu: resourcesSchema.shape.cpu,
    memory: resourcesSchema.shape.memory,
    waitForReady: z
      .boolean()
      .default(true)
      .describe('Wait until the app is Ready before finishing the step'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(DEPLOY_TIMEOUT_SECONDS.max)
      .default(DEPLOY_TIMEOUT_SECONDS.default)
      .describe('How long to wait for Ready'),
  })
  .strict();
export type DeployAppActionInput = z.output<typeof deployAppActionInputSchema>;

/** `paved:app:delete` and `paved:tenant:delete`. */
export const deleteAppActionInputSchema = z
  .object({
    tenant: tenantNameSchema.describe('The tenant of the app'),
    name: appNameSchema.describe('The app to delete'),
    confirm: z
      .string()
      .describe('Type <tenant>/<app> again to confirm the deletion'),
  })
  .strict();

export const deleteTenantActionInputSchema = z
  .object({
    name: tenantNameSchema.describe('The tenant to delete'),
    confirm: z
      .string()
      .describe('Type the tenant name again to confirm the deletion'),
  })
  .strict();

/** Keywords the schemas set with `.meta()` for the CRDs, where zod checks with a function. */
const CRD_HINTS = ['pattern', 'maxLength', 'minimum', 'maximum'];

/**
 * The JSON schema of an action's input, as the Scaffolder wants it (draft
 * 7). The Scaffolder refuses a value that does not match its input schema
 * ("does not match pattern …") before the action runs, so the patterns,
 * and the limits the schemas carry only for the CRDs, are left to the
 * action's paved-common checks, which say what to fix.
 */
export function actionInputJsonSchema(schema: z.ZodType) {
  return z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const target = jsonSchema as Record<string, unknown>;
      delete target.pattern;
      // .describe() and .meta() make a child; the hints may be on a parent.
      for (let s: any = zodSchema; s; s = s._zod.parent) {
        const meta = z.globalRegistry.get(s) ?? {};
        for (const key of CRD_HINTS) if (key in meta) delete target[key];
      }
    },
  }) as Record<string, unknown>;
}

/**
 * Parses an action's input, or throws one InputError listing every problem,
 * before the action changes anything: unset fields (undefined or null, as
 * templates pass unset parameters) take their defaults, and the problems
 * are in the words of the paved-common checks (the same the backend
 * applies), with `more`: checks the schema cannot make, such as those that
 * need the task's secrets. The Scaffolder itself checks inputs only against
 * the JSON schema, which has none of the refinements.
 */
export function parseActionInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  more: Array<string | undefined> = [],
): z.output<T> {
  const set =
    input && typeof input === 'object' && !Array.isArray(input)
      ? Object.fromEntries(
          Object.entries(input).filter(
            ([, value]) => value !== undefined && value !== null,
          ),
        )
      : input;
  const result = schema.safeParse(set);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map(issue =>
          // Paved's own checks name the field in their words already.
          issue.code === 'custom' || issue.path.length === 0
            ? issue.message
            : `${issue.path.join('.')}: ${issue.message}`,
        )),
    ...more,
  ].filter((problem): problem is string => Boolean(problem));
  if (problems.length > 0 || !result.success) {
    throw new InputError(problems.join('; '));
  }
  return result.data;
}
