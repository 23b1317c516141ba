import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  APP_LONG_POLL_SECONDS,
  AppView,
  appRef,
  appEntityRef,
  DeployAppRequest,
  deployAppActionInputSchema,
  describeAppStatus,
  envNameProblem,
  ENV_VALUE_MAX_LENGTH,
  parseActionInput,
  PavedApiClient,
} from '@paved/plugin-paved-common';
import { describeApiError, PavedClientSource } from './pavedClient';
import { isNotFound, withInputSchema } from './pavedAction';
import { examples } from './deployApp.examples';

/**
 * `paved:app:deploy`: creates or updates an app through the Paved backend
 * and, unless told not to, waits until it is Ready, logging progress and,
 * on failure, the reason the operator reported (quota, image pull, …).
 */
export function createPavedAppDeployAction(options: {
  clients: PavedClientSource;
}) {
  const action = createTemplateAction({
    id: 'paved:app:deploy',
    description:
      'Deploys a container image as a Paved app (a scale-to-zero Knative Service) in a tenant, and outputs its URL.',
    examples,
    supportsDryRun: true,
    schema: {
      // Replaced by deployAppActionInputSchema below.
      input: {},
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
      // Raw, so that their problems are reported with the schema's.
      const raw = (ctx.input ?? {}) as {
        env?: unknown;
        secretEnv?: unknown;
        minInstances?: number | null;
        maxInstances?: number | null;
      };
      const rawEnv = Array.isArray(raw.env) ? raw.env : [];
      const secretEnv = readSecretEnv(
        Array.isArray(raw.secretEnv)
          ? raw.secretEnv.filter(e => typeof e?.secret === 'string')
          : [],
        ctx.secrets,
      );
      const input = parseActionInput(deployAppActionInputSchema, ctx.input, [
        ...rawEnv.map(e =>
          e?.secret === true
            ? `Env var ${e.name} is marked secret but its value came as a plain input, which the Scaffolder keeps in its task table in plaintext; take it with a \`ui:field: Secret\` parameter and pass it in secretEnv (see the paved:app:deploy docs)`
            : undefined,
        ),
        ...secretEnv.problems,
        ...duplicateEnvNames([
          ...rawEnv.map(e => e?.name).filter(n => typeof n === 'string'),
          ...secretEnv.values.map(e => e.name),
        ]),
        instancesProblem(raw.minInstances, raw.maxInstances),
      ]);
      const ref = appRef(input.tenant, input.name);
      const client = await options.clients.forInitiator(ctx);

      const tenant = await client.getTenant(input.tenant).catch(error => {
        throw describeApiError(`Looking up tenant "${input.tenant}"`, error);
      });

      const body: DeployAppRequest = {
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
          targetConcurrency: input.targetConcurrency,
        },
        resources: { cpu: input.cpu, memory: input.memory },
        // An empty field of a form is no domain, not "remove them all".
        ...(input.domains?.filter(d => d.trim()).length
          ? { domains: input.domains.map(d => d.trim()).filter(Boolean) }
          : {}),
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
        app = await client.getApp(input.tenant, input.name).catch(error => {
          throw describeApiError(
            `Reading ${appRef(input.tenant, input.name)}`,
            error,
          );
        });
      } else {
        app = await waitUntilSettled(
          client,
          input.tenant,
          input.name,
          deployed.revision,
          {
            timeoutMs: input.timeoutSeconds * 1000,
            log: line => ctx.logger.info(line),
            signal: ctx.signal,
          },
        );
        if (describeAppStatus(app).phase === 'Failed') {
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
  return withInputSchema(action, deployAppActionInputSchema);
}

/** Keys of the task's secrets the Scaffolder itself puts there. */
const RESERVED_SECRETS = ['backstageToken'];

/** The largest secret value, as for plain env values. */
const SECRET_VALUE_MAX_LENGTH = ENV_VALUE_MAX_LENGTH;

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

/** minInstances above maxInstances, each given or its default. */
function instancesProblem(min: unknown, max: unknown): string | undefined {
  const { shape } = deployAppActionInputSchema;
  const minInstances = shape.minInstances.safeParse(min ?? undefined);
  const maxInstances = shape.maxInstances.safeParse(max ?? undefined);
  return minInstances.success &&
    maxInstances.success &&
    minInstances.data > maxInstances.data
    ? `minInstances (${minInstances.data}) must not be greater than maxInstances (${maxInstances.data})`
    : undefined;
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
    if (isNotFound(error)) return undefined;
    throw describeApiError(`Looking up ${appRef(tenant, app)}`, error);
  }
}

/**
 * Follows the app until the cluster has taken revision `revision` and the
 * operator reports Ready or Failed, logging each change of phase or
 * message. Each read is a long poll (the server answers when the app
 * changes), so the wait ends when the app settles, not at a polling tick.
 */
export async function waitUntilSettled(
  client: PavedApiClient,
  tenant: string,
  name: string,
  revision: number,
  options: {
    timeoutMs: number;
    log: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<AppView> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  let seen: { app: AppView; etag: string } | undefined;
  for (;;) {
    const waitSeconds = Math.min(
      APP_LONG_POLL_SECONDS,
      Math.max(0, (deadline - Date.now()) / 1000),
    );
    const changed = await client
      .getAppWhenChanged(tenant, name, {
        etag: seen?.etag,
        waitSeconds,
        signal: options.signal,
      })
      .catch(error => {
        if (options.signal?.aborted) throw new Error('The task was cancelled');
        throw describeApiError(`Reading ${appRef(tenant, name)}`, error);
      });
    seen = changed ?? seen!;
    const app = seen.app;
    const { settled, progress: line } = describeAppStatus(app, { revision });
    if (line !== last) {
      options.log(`${appRef(tenant, name)}: ${line}`);
      last = line;
    }
    if (settled) return app;
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
  }
}
