import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  AppView,
  appNameProblem,
  appRef,
  appEntityRef,
  cpuProblem,
  envNameProblem,
  imageProblem,
  memoryProblem,
  PavedApiClient,
  PavedApiError,
  portProblem,
  tenantNameProblem,
} from '@paved/plugin-paved-common';
import { describeApiError, PavedClientSource } from './pavedClient';
import { rejectInvalidInput, withDefaults } from './validateInput';
import { examples } from './deployApp.examples';

/** How the action finds out the app's state while it waits. */
export interface WaitOptions {
  /** Delay between polls of the app's status. */
  pollIntervalMs: number;
}

const DEFAULT_WAIT: WaitOptions = { pollIntervalMs: 1000 };

/**
 * `paved:app:deploy`: creates or updates an app through the Paved backend
 * and, unless told not to, waits until it is Ready, logging progress and,
 * on failure, the reason the operator reported (quota, image pull, …).
 */
export function createPavedAppDeployAction(options: {
  clients: PavedClientSource;
  wait?: Partial<WaitOptions>;
}) {
  const wait = { ...DEFAULT_WAIT, ...options.wait };
  return createTemplateAction({
    id: 'paved:app:deploy',
    description:
      'Deploys a container image as a Paved app (a scale-to-zero Knative Service) in a tenant, and outputs its URL.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        tenant: z => z.string().describe('The tenant to deploy into'),
        name: z =>
          z
            .string()
            .describe(
              'App name: lowercase letters, digits and "-", starting with a letter, at most 50 characters',
            ),
        image: z =>
          z
            .string()
            .describe(
              'Container image with a tag or digest, e.g. ghcr.io/acme/web:1.4.2',
            ),
        port: z =>
          z
            .number()
            .default(8080)
            .describe('The port the container listens on'),
        env: z =>
          z
            .array(
              z.object({
                name: z.string().describe('Variable name, e.g. LOG_LEVEL'),
                value: z.string().max(32768).describe('Variable value'),
                secret: z
                  .boolean()
                  .optional()
                  .describe(
                    'Refused when true: a plain input is stored in the task table in plaintext. Use secretEnv for secret values',
                  ),
              }),
            )
            .default([])
            .describe(
              'Plain environment variables of the container (the task table keeps them): no secrets here, see secretEnv',
            ),
        secretEnv: z =>
          z
            .array(
              z.object({
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
              }),
            )
            .default([])
            .describe(
              "Secret environment variables, their values read from the task's secrets (never from inputs or parameters), stored encrypted by Paved and applied as a Kubernetes Secret; the API shows them as ********",
            ),
        minInstances: z =>
          z
            .number()
            .int()
            .min(0)
            .max(100)
            .default(0)
            .describe('Instances kept running when idle; 0 scales to zero'),
        maxInstances: z =>
          z
            .number()
            .int()
            .min(1)
            .max(100)
            .default(10)
            .describe('Most instances under load'),
        targetConcurrency: z =>
          z
            .number()
            .int()
            .min(1)
            .max(1000)
            .optional()
            .describe('Concurrent requests per instance before scaling out'),
        cpu: z =>
          z.string().optional().describe('CPU per instance, e.g. 250m or 1'),
        memory: z =>
          z
            .string()
            .optional()
            .describe('Memory per instance, e.g. 256Mi or 1Gi'),
        waitForReady: z =>
          z
            .boolean()
            .default(true)
            .describe('Wait until the app is Ready before finishing the step'),
        timeoutSeconds: z =>
          z
            .number()
            .int()
            .min(1)
            .max(3600)
            .default(300)
            .describe('How long to wait for Ready'),
      },
      output: {
        url: z =>
          z.string().optional().describe('The URL of the app, once Ready'),
        entityRef: z => z.string().describe('The catalog entity of the app'),
        appRef: z => z.string().describe('The app as <tenant>/<app>'),
        revision: z =>
          z.number().describe('The config revision this deploy created'),
        phase: z =>
          z.string().describe('The phase of the app when the step finished'),
      },
    },
    async handler(ctx) {
      // The Scaffolder checks inputs against the JSON schema but does not fill
      // in the zod defaults, and templates pass unset parameters as undefined.
      const input = withDefaults(ctx.input, {
        port: 8080,
        env: [],
        secretEnv: [],
        minInstances: 0,
        maxInstances: 10,
        waitForReady: true,
        timeoutSeconds: 300,
      });
      const ref = appRef(input.tenant, input.name);
      const client = await options.clients.forInitiator(ctx);

      const secretEnv = readSecretEnv(input.secretEnv, ctx.secrets);
      rejectInvalidInput([
        tenantNameProblem(input.tenant),
        appNameProblem(input.name),
        imageProblem(input.image),
        portProblem(input.port),
        ...input.env.map(e => envNameProblem(e.name)),
        ...input.env.map(e =>
          e.secret
            ? `Env var ${e.name} is marked secret but its value came as a plain input, which the Scaffolder keeps in its task table in plaintext; take it with a \`ui:field: Secret\` parameter and pass it in secretEnv (see the paved:app:deploy docs)`
            : undefined,
        ),
        ...secretEnv.problems,
        ...duplicateEnvNames([
          ...input.env.map(e => e.name),
          ...secretEnv.values.map(e => e.name),
        ]),
        input.cpu === undefined ? undefined : cpuProblem(input.cpu),
        input.memory === undefined ? undefined : memoryProblem(input.memory),
        input.minInstances > input.maxInstances
          ? `minInstances (${input.minInstances}) must not be greater than maxInstances (${input.maxInstances})`
          : undefined,
      ]);

      const tenant = await client.getTenant(input.tenant).catch(error => {
        throw describeApiError(`Looking up tenant "${input.tenant}"`, error);
      });

      const body = {
        image: input.image,
        port: input.port,
        env: [
          ...input.env.map(e => ({ name: e.name, value: e.value })),
          ...secretEnv.values.map(e => ({
            name: e.name,
            value: e.value,
            secret: true,
          })),
        ],
        scaling: {
          minInstances: input.minInstances,
          maxInstances: input.maxInstances,
          ...(input.targetConcurrency
            ? { targetConcurrency: input.targetConcurrency }
            : {}),
        },
        resources: {
          ...(input.cpu ? { cpu: input.cpu } : {}),
          ...(input.memory ? { memory: input.memory } : {}),
        },
      };

      if (ctx.isDryRun) {
        const existing = await getAppIfExists(client, input.tenant, input.name);
        ctx.logger.info(
          `Dry run: would ${
            existing ? `update ${ref} (now ${existing.image})` : `create ${ref}`
          } with image ${input.image} on port ${input.port} in namespace ${
            tenant.namespace
          }${describeSecretEnv(secretEnv.values)}`,
        );
        ctx.output('entityRef', appEntityRef(input.tenant, input.name));
        ctx.output('appRef', ref);
        ctx.output('revision', existing?.revision ?? 0);
        ctx.output('phase', existing?.status.phase ?? 'Pending');
        return;
      }

      const deployed = await ctx.checkpoint({
        key: `paved-app-deploy-${ref}-${ctx.task.id}`,
        fn: async () => {
          try {
            const app = await client.deployApp(input.tenant, input.name, body);
            return { revision: app.revision };
          } catch (error) {
            throw describeApiError(`Deploying ${ref}`, error);
          }
        },
      });
      ctx.logger.info(
        `Saved ${ref} revision ${deployed.revision}${describeSecretEnv(
          secretEnv.values,
        )}; the operator is rolling it out`,
      );

      let app: AppView;
      if (!input.waitForReady) {
        app = await client.getApp(input.tenant, input.name);
      } else {
        app = await waitUntilSettled(
          client,
          input.tenant,
          input.name,
          deployed.revision,
          {
            timeoutMs: input.timeoutSeconds * 1000,
            pollIntervalMs: wait.pollIntervalMs,
            log: line => ctx.logger.info(line),
            signal: ctx.signal,
          },
        );
        if (app.status.phase === 'Failed') {
          throw new Error(
            `${ref} failed to become ready: ${
              app.status.message ?? 'the operator gave no reason'
            }`,
          );
        }
        ctx.logger.info(`${ref} is Ready at ${app.status.url}`);
      }
      if (app.status.url) ctx.output('url', app.status.url);
      ctx.output('entityRef', appEntityRef(input.tenant, input.name));
      ctx.output('appRef', ref);
      ctx.output('revision', deployed.revision);
      ctx.output('phase', app.status.phase ?? 'Pending');
    },
  });
}

/** Keys of the task's secrets the Scaffolder itself puts there. */
const RESERVED_SECRETS = ['backstageToken'];

/** The largest secret value, as for plain env values. */
const SECRET_VALUE_MAX_LENGTH = 32768;

/**
 * Reads each `secretEnv` entry's value from the task's secrets. Problems
 * name the env var and the secret key, never a value.
 */
export function readSecretEnv(
  entries: Array<{ name?: string; secret: string }>,
  secrets: Record<string, string> | undefined,
): {
  values: Array<{ name: string; value: string }>;
  problems: string[];
} {
  const values: Array<{ name: string; value: string }> = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const name = entry.name?.trim();
    if (!name) continue; // an unused slot of a template
    const nameProblem = envNameProblem(name);
    if (nameProblem) {
      problems.push(nameProblem);
      continue;
    }
    const key = entry.secret;
    if (RESERVED_SECRETS.includes(key) || key.startsWith('__')) {
      problems.push(
        `Secret env var ${name} names the task secret "${key}", which the Scaffolder sets itself (the user's credentials), not a value the user gave`,
      );
      continue;
    }
    const value = secrets?.[key];
    if (value === undefined || value === '') {
      problems.push(
        `Secret env var ${name} needs the task secret "${key}", which this task was not given: the template collects it with a \`ui:field: Secret\` parameter named ${key} (or the caller passes it in \`secrets\` of POST /v2/tasks)`,
      );
      continue;
    }
    if (value.length > SECRET_VALUE_MAX_LENGTH) {
      problems.push(
        `The value of secret env var ${name} is longer than ${SECRET_VALUE_MAX_LENGTH} characters`,
      );
      continue;
    }
    values.push({ name, value });
  }
  return { values, problems };
}

function duplicateEnvNames(names: string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const name of names) (seen.has(name) ? twice : seen).add(name);
  return [...twice].map(
    name =>
      `Env var ${name} is given more than once (env and secretEnv together)`,
  );
}

/** For the log: the names of the secret env vars, never their values. */
function describeSecretEnv(values: Array<{ name: string }>): string {
  return values.length
    ? ` and secret env ${values.length === 1 ? 'var' : 'vars'} ${values
        .map(v => v.name)
        .join(', ')} (values from the task's secrets, not logged)`
    : '';
}

async function getAppIfExists(
  client: PavedApiClient,
  tenant: string,
  app: string,
) {
  try {
    return await client.getApp(tenant, app);
  } catch (error) {
    if (error instanceof PavedApiError && error.status === 404)
      return undefined;
    throw describeApiError(`Looking up ${appRef(tenant, app)}`, error);
  }
}

/**
 * Polls the app until the cluster has taken revision `revision` and the
 * operator reports Ready or Failed, logging each change of phase or message.
 */
export async function waitUntilSettled(
  client: PavedApiClient,
  tenant: string,
  name: string,
  revision: number,
  options: {
    timeoutMs: number;
    pollIntervalMs: number;
    log: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<AppView> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    const app = await client.getApp(tenant, name);
    const current =
      app.revision === revision &&
      !app.sync.pending &&
      app.status.current === true;
    const line = app.sync.pending
      ? `waiting for the cluster to accept revision ${revision}${
          app.sync.lastError ? ` (${app.sync.lastError})` : ''
        }`
      : `phase ${app.status.known ? app.status.phase ?? 'Pending' : 'unknown'}${
          app.status.message ? `: ${app.status.message}` : ''
        }`;
    if (line !== last) {
      options.log(`${appRef(tenant, name)}: ${line}`);
      last = line;
    }
    if (
      current &&
      (app.status.phase === 'Ready' || app.status.phase === 'Failed')
    ) {
      return app;
    }
    if (app.revision !== revision) {
      throw new Error(
        `${appRef(
          tenant,
          name,
        )} was changed by someone else while waiting (now revision ${
          app.revision
        }); check the app in Backstage`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${appRef(tenant, name)} was not Ready after ${Math.round(
          options.timeoutMs / 1000,
        )}s; last state: ${line}`,
      );
    }
    if (options.signal?.aborted) {
      throw new Error('The task was cancelled');
    }
    await new Promise(resolve => setTimeout(resolve, options.pollIntervalMs));
  }
}
