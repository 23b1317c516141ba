/**
 * What each command does, over the Paved REST API through PavedApiClient
 * (the contract's own types; nothing here redefines a request or answer).
 */
import {
  APP_LONG_POLL_SECONDS,
  AppView,
  DeployAppRequest,
  EnvVarInput,
  PavedApiClient,
  apiErrorStatus,
  describeAppStatus,
} from '@paved/plugin-paved-common';
import { CliError, EXIT, UsageError, fromApiError } from './errors';
import { StoredConfig } from './config';
import { SignIn, guestSignIn, tokenIdentity } from './auth';
import {
  appText,
  appsTable,
  envText,
  revisionsTable,
  seconds,
  tenantsTable,
} from './format';
import { Ingress, answeredByApp, displayUrl, probe } from './probe';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of stdin (for `--token -`). */
  readStdin(): Promise<string>;
  /** One answer to a question on the terminal; undefined without one. */
  ask?(question: string): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface Context {
  io: Io;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
  /** The backend's base URL. */
  url: string;
  config: StoredConfig;
  saveConfig(config: StoredConfig): void;
  /** The sign-in in use, if any. */
  signIn(): Promise<SignIn | undefined>;
  client(): Promise<PavedApiClient>;
  ingress?: Ingress;
  /** Sleeps between polls; tests need not wait. */
  sleep(ms: number): Promise<void>;
}

type Values = Context['values'];

export const str = (values: Values, key: string) =>
  typeof values[key] === 'string' ? (values[key] as string) : undefined;
const list = (values: Values, key: string) =>
  Array.isArray(values[key]) ? (values[key] as string[]) : [];

/** A whole number from an option, within bounds, or a UsageError. */
export function intOption(
  values: Values,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const raw = str(values, key);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(
      `--${key} must be a whole number from ${min} to ${max}, not "${raw}"`,
    );
  }
  return Number(raw);
}

/** `K=V` pairs into env entries; a UsageError names a malformed one. */
export function parseEnvPairs(pairs: string[], secret: boolean): EnvVarInput[] {
  return pairs.map(pair => {
    const at = pair.indexOf('=');
    if (at < 1) {
      throw new UsageError(
        `"${pair}" is not NAME=VALUE`,
        'Give env vars as NAME=VALUE, e.g. --env LOG_LEVEL=debug (quote values with spaces).',
      );
    }
    return { name: pair.slice(0, at), value: pair.slice(at + 1), secret };
  });
}

/** `30s`, `10m`, `2h`, `1d` or plain seconds, as seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(
      `--since must be a duration such as 30s, 10m, 2h or 1d, not "${value}"`,
    );
  }
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2]]!;
  return Number(match[1]) * unit;
}

export function timeoutMs(values: Values): number {
  return (intOption(values, 'timeout', 1, 86_400) ?? 300) * 1000;
}

export async function call<T>(
  ctx: Context,
  what: string,
  fn: (client: PavedApiClient) => Promise<T>,
): Promise<T> {
  const client = await ctx.client();
  try {
    return await fn(client);
  } catch (error) {
    throw fromApiError(error, { url: ctx.url, what });
  }
}

/** --tenant, PAVED_TENANT, the saved default, or the caller's only tenant. */
export async function resolveTenant(ctx: Context): Promise<string> {
  const given =
    str(ctx.values, 'tenant') ?? ctx.io.env.PAVED_TENANT ?? ctx.config.tenant;
  if (given) return given;
  const { items } = await call(ctx, 'Listing your tenants', c =>
    c.listTenants(),
  );
  if (items.length === 1) return items[0].name;
  if (!items.length) {
    throw new CliError(
      'You have no tenant to deploy to',
      EXIT.notFound,
      'Create one in Backstage (Create → Create a tenant), or ask your platform team.',
    );
  }
  throw new UsageError(
    `You can use ${items.length} tenants (${items
      .map(t => t.name)
      .join(', ')}); say which with --tenant`,
    'Or set PAVED_TENANT, or save a default with `paved login --tenant T`.',
  );
}

/** The app, or undefined when it does not exist (404). */
async function findApp(
  client: PavedApiClient,
  tenant: string,
  name: string,
): Promise<AppView | undefined> {
  try {
    return await client.getApp(tenant, name);
  } catch (error) {
    if (apiErrorStatus(error) === 404) return undefined;
    throw error;
  }
}

/** The request that redeploys `app` as it is, for writes that change one field. */
function requestFromView(app: AppView): DeployAppRequest {
  return {
    image: app.image,
    port: app.port,
    env: app.env.map(e => ({ name: e.name, value: e.value, secret: e.secret })),
    scaling: app.scaling,
    resources: app.resources,
    domains: app.domains,
    paused: app.paused,
    expectedGeneration: app.sync.generation,
  };
}

export function print(ctx: Context, human: string, json: unknown) {
  ctx.io.stdout(ctx.json ? `${JSON.stringify(json, null, 2)}\n` : human);
}

/** Progress goes to stderr, so stdout stays the answer. */
export function progress(ctx: Context, line: string) {
  if (!ctx.json) ctx.io.stderr(`${line}\n`);
}

function failureHint(app: AppView) {
  return `See \`paved logs ${app.name} --tenant ${app.tenant}\` and \`paved status ${app.name} --tenant ${app.tenant}\`; fix and deploy again, or \`paved rollback ${app.name}\`.`;
}

/**
 * How long a change may leave the cluster's generation of the App where
 * it was before `paved` takes the status as the change's: a write that
 * changes nothing in the spec does not move it.
 */
const UNCHANGED_SPEC_GRACE_MS = 15_000;

/**
 * Follows the app until it is where the change should take it: Ready at
 * `revision` (or Paused), printing each new step of the rollout. Each read
 * is a long poll (the server answers when the app changes), so the wait
 * ends when the app gets there, not at a polling tick.
 *
 * `baseline` is the App's `status.observedGeneration` read before the
 * write. The API's `status.current` compares the operator's observed
 * generation with the generation of the App as the backend's watch cache
 * holds it, and that cache can still hold the App from before the write
 * for a moment after it: then the old, Ready status looks current. So a
 * change counts as observed once the observed generation moved past the
 * baseline (or, for a write that changed nothing in the spec, after a
 * grace period).
 */
async function waitForApp(
  ctx: Context,
  first: AppView,
  target: 'ready' | 'paused',
  started: number,
  baseline: number | undefined,
): Promise<AppView> {
  const deadline = started + timeoutMs(ctx.values);
  let app = first;
  let etag: string | undefined;
  let last = '';
  for (;;) {
    const observed = app.status.observedGeneration;
    const fresh =
      baseline === undefined ||
      (observed !== undefined && observed > baseline) ||
      Date.now() - started > UNCHANGED_SPEC_GRACE_MS;
    const described = describeAppStatus(app, { revision: first.revision });
    const step = fresh ? described.progress : 'waiting for the operator';
    if (step !== last) {
      last = step;
      progress(ctx, `  ${seconds(Date.now() - started).padStart(7)}  ${last}`);
    }
    const current = fresh && !app.sync.pending && app.status.current === true;
    if (target === 'paused' && current && app.status.phase === 'Paused') {
      return app;
    }
    if (target === 'ready' && fresh && described.settled) {
      if (described.state === 'failed') {
        throw new CliError(
          `${app.ref} failed: ${described.message}`,
          EXIT.failure,
          failureHint(app),
        );
      }
      if (app.status.url) return app;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `Timed out after ${seconds(Date.now() - started)} waiting for ${
          app.ref
        }: ${described.progress}`,
        EXIT.timeout,
        `It may still get there: \`paved status ${app.name} --tenant ${app.tenant}\`. Wait longer with --timeout SECONDS.`,
      );
    }
    const name = app.name;
    const tenant = app.tenant;
    // Until the grace period ends, an unchanged app must be read again then.
    const wakeAt = fresh ? deadline : started + UNCHANGED_SPEC_GRACE_MS;
    const waitSeconds = Math.min(
      APP_LONG_POLL_SECONDS,
      Math.max(0, (Math.min(wakeAt, deadline) - Date.now()) / 1000),
    );
    const since = etag;
    const changed = await call(ctx, `Reading ${app.ref}`, c =>
      c.getAppWhenChanged(tenant, name, { etag: since, waitSeconds }),
    );
    if (changed) ({ app, etag } = changed);
  }
}

/** Requests the URL until the app itself answers; resolves to the status. */
async function waitForUrl(
  ctx: Context,
  url: string,
  started: number,
): Promise<number> {
  const deadline = started + timeoutMs(ctx.values);
  const path = str(ctx.values, 'path') ?? '/';
  let lastProblem = '';
  for (;;) {
    let problem: string;
    try {
      const result = await probe(url, { ingress: ctx.ingress, path });
      if (answeredByApp(result)) return result.status;
      problem = `HTTP ${result.status}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem !== lastProblem) {
      lastProblem = problem;
      progress(
        ctx,
        `  ${seconds(Date.now() - started).padStart(
          7,
        )}  waiting for ${url} to answer (${problem})`,
      );
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `The app is Ready but ${url} does not answer (${problem})`,
        EXIT.timeout,
        `Can this machine reach the ingress? Give its address with --ingress HOST:PORT or PAVED_INGRESS.`,
      );
    }
    await ctx.sleep(500);
  }
}

/** After a change: wait (unless --no-wait) and print the outcome. */
async function settle(
  ctx: Context,
  app: AppView,
  done: string,
  options: {
    target?: 'ready' | 'paused';
    started?: number;
    /** The app as read before the write (none: a new app). */
    before?: AppView;
  } = {},
) {
  const started = options.started ?? Date.now();
  if (ctx.values['no-wait'] === true) {
    print(
      ctx,
      `${done}: revision ${app.revision} saved; \`paved status ${app.name}\` shows the rollout.\n`,
      app,
    );
    return;
  }
  const target = options.target ?? (app.paused ? 'paused' : 'ready');
  const ready = await waitForApp(
    ctx,
    app,
    target,
    started,
    options.before ? options.before.status.observedGeneration ?? 0 : undefined,
  );
  if (target === 'paused') {
    print(ctx, `${done}: ${ready.ref} is paused.\n`, ready);
    return;
  }
  const url = displayUrl(ready.status.url!, ctx.ingress);
  const answer = await waitForUrl(ctx, url, started);
  progress(
    ctx,
    `  ${seconds(Date.now() - started).padStart(
      7,
    )}  ${url} answers (HTTP ${answer})`,
  );
  print(
    ctx,
    `${done}: ${ready.ref} revision ${
      ready.revision
    } is live at ${url} (${seconds(Date.now() - started)})\n`,
    ready,
  );
}

function appArgs(ctx: Context) {
  return { name: ctx.positionals[0] };
}

// ------------------------------------------------------------------ commands

async function login(ctx: Context) {
  const { values, io, url } = ctx;
  const given = str(values, 'token');
  if (given !== undefined && values.guest === true) {
    throw new UsageError('Give --token or --guest, not both');
  }
  let signIn: SignIn;
  if (values.guest === true) {
    signIn = await guestSignIn(url);
  } else if (given !== undefined) {
    const token = given === '-' ? (await io.readStdin()).trim() : given.trim();
    if (!token) throw new UsageError('The token is empty');
    signIn = { token, method: 'token', identity: tokenIdentity(token) };
  } else {
    throw new UsageError(
      'Say how to sign in: --token TOKEN (or --token - to read it from stdin) or --guest',
      'A service token for CI comes from backend.auth.externalAccess; a user token from `backstage-cli auth print-token` where the deployment enables CLI sign-in; --guest works where the guest provider is on (the local stack). See `paved login --help`.',
    );
  }
  const client = new PavedApiClient({
    baseUrl: `${url}/api/paved`,
    token: signIn.token,
    client: 'cli',
  });
  let visible;
  try {
    visible = (await client.listTenants()).items;
  } catch (error) {
    throw fromApiError(error, { url, what: 'Signing in' });
  }
  const tenant = str(values, 'tenant');
  if (tenant && !visible.some(t => t.name === tenant)) {
    throw new CliError(
      `Tenant ${tenant} is not one you can see (you can see: ${
        visible.map(t => t.name).join(', ') || 'none'
      })`,
      EXIT.notFound,
    );
  }
  ctx.saveConfig({
    url,
    auth: {
      method: signIn.method === 'guest' ? 'guest' : 'token',
      token: signIn.token,
      expiresAt: signIn.expiresAt,
      identity: signIn.identity,
    },
    tenant: tenant ?? (ctx.config.url === url ? ctx.config.tenant : undefined),
  });
  const who = signIn.identity ?? 'the token';
  print(
    ctx,
    `Signed in to ${url} as ${who} (${signIn.method}); ${
      visible.length
    } tenant${visible.length === 1 ? '' : 's'}: ${
      visible.map(t => t.name).join(', ') || 'none'
    }\n`,
    {
      url,
      identity: signIn.identity,
      method: signIn.method,
      tenants: visible.map(t => t.name),
    },
  );
}

async function logout(ctx: Context) {
  const had = Boolean(ctx.config.auth);
  ctx.saveConfig({ url: ctx.config.url, tenant: ctx.config.tenant });
  print(ctx, had ? `Signed out of ${ctx.config.url}.\n` : 'Not signed in.\n', {
    signedOut: had,
  });
}

async function whoami(ctx: Context) {
  const signIn = await ctx.signIn();
  if (!signIn) {
    throw new CliError(
      `Not signed in to ${ctx.url}`,
      EXIT.auth,
      'Sign in with `paved login`, or set PAVED_TOKEN.',
    );
  }
  const { items } = await call(ctx, 'Checking the sign-in', c =>
    c.listTenants(),
  );
  const identity = signIn.identity ?? 'a token (no identity in it)';
  print(
    ctx,
    `${identity} at ${ctx.url} (${
      signIn.method === 'env' ? 'PAVED_TOKEN' : signIn.method
    })${signIn.expiresAt ? `, until ${signIn.expiresAt}` : ''}\nTenants: ${
      items.map(t => t.name).join(', ') || 'none'
    }\n`,
    {
      url: ctx.url,
      identity: signIn.identity,
      method: signIn.method,
      expiresAt: signIn.expiresAt,
      tenants: items.map(t => t.name),
    },
  );
}

async function deploy(ctx: Context) {
  const { values } = ctx;
  const image = ctx.positionals[0];
  const name = str(values, 'name');
  if (!name) {
    throw new UsageError(
      'paved deploy: give the app a name with --name',
      'Usage: paved deploy IMAGE --name N --port P [--tenant T]',
    );
  }
  const port = intOption(values, 'port', 1, 65535);
  const env = [
    ...parseEnvPairs(list(values, 'env'), false),
    ...parseEnvPairs(list(values, 'secret'), true),
  ];
  const minInstances = intOption(values, 'min-instances', 0, 1000);
  const maxInstances = intOption(values, 'max-instances', 1, 1000);
  const started = Date.now();
  const tenant = await resolveTenant(ctx);
  const existing = await call(ctx, `Reading ${tenant}/${name}`, c =>
    findApp(c, tenant, name),
  );
  if (!existing && port === undefined) {
    throw new UsageError(
      `paved deploy: ${tenant}/${name} is a new app; say which port it listens on with --port`,
    );
  }
  const base: DeployAppRequest = existing
    ? requestFromView(existing)
    : { image };
  const named = new Set(env.map(e => e.name));
  const body: DeployAppRequest = {
    ...base,
    image,
    port: port ?? base.port,
    env: [...(base.env ?? []).filter(e => !named.has(e.name)), ...env],
    ...(minInstances !== undefined || maxInstances !== undefined
      ? {
          scaling: {
            ...base.scaling,
            ...(minInstances !== undefined ? { minInstances } : {}),
            ...(maxInstances !== undefined ? { maxInstances } : {}),
          },
        }
      : {}),
  };
  const app = await call(ctx, `Deploying ${tenant}/${name}`, c =>
    c.deployApp(tenant, name, body),
  );
  progress(
    ctx,
    `${existing ? 'Updating' : 'Creating'} ${app.ref} with ${image} (revision ${
      app.revision
    })`,
  );
  await settle(ctx, app, 'Deployed', { started, before: existing });
}

async function apps(ctx: Context) {
  const tenant = str(ctx.values, 'tenant');
  const { items } = await call(ctx, 'Listing apps', c => c.listApps(tenant));
  print(ctx, appsTable(items), items);
}

async function status(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  const app = await call(ctx, `${tenant}/${name}`, c => c.getApp(tenant, name));
  print(
    ctx,
    appText(app, app.status.url && displayUrl(app.status.url, ctx.ingress)),
    app,
  );
}

async function tenants(ctx: Context) {
  const { items } = await call(ctx, 'Listing tenants', c => c.listTenants());
  print(ctx, tenantsTable(items), items);
}

async function envList(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  const app = await call(ctx, `${tenant}/${name}`, c => c.getApp(tenant, name));
  print(ctx, envText(app), app.env);
}

async function envSet(ctx: Context) {
  const [name, ...pairs] = ctx.positionals;
  const set = parseEnvPairs(pairs, ctx.values.secret === true);
  const tenant = await resolveTenant(ctx);
  const before = await call(ctx, `${tenant}/${name}`, c =>
    c.getApp(tenant, name),
  );
  const app = await call(ctx, `Setting env of ${tenant}/${name}`, c =>
    c.patchEnv(tenant, name, {
      set,
      expectedGeneration: before.sync.generation,
    }),
  );
  progress(
    ctx,
    `Set ${set.map(e => e.name).join(', ')} on ${app.ref} (revision ${
      app.revision
    })`,
  );
  await settle(ctx, app, 'Env set', { before });
}

async function envUnset(ctx: Context) {
  const [name, ...names] = ctx.positionals;
  const bad = names.find(n => n.includes('='));
  if (bad) {
    throw new UsageError(
      `"${bad}": give only the names to remove (paved env unset APP NAME…)`,
    );
  }
  const tenant = await resolveTenant(ctx);
  const before = await call(ctx, `${tenant}/${name}`, c =>
    c.getApp(tenant, name),
  );
  const missing = names.filter(n => !before.env.some(e => e.name === n));
  if (missing.length) {
    throw new CliError(
      `${before.ref} has no env var ${missing.join(', ')}`,
      EXIT.notFound,
      `\`paved env ${name}\` lists them.`,
    );
  }
  const app = await call(ctx, `Removing env of ${tenant}/${name}`, c =>
    c.patchEnv(tenant, name, {
      remove: names,
      expectedGeneration: before.sync.generation,
    }),
  );
  progress(
    ctx,
    `Removed ${names.join(', ')} from ${app.ref} (revision ${app.revision})`,
  );
  await settle(ctx, app, 'Env unset', { before });
}

async function pause(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  const before = await call(ctx, `${tenant}/${name}`, c =>
    c.getApp(tenant, name),
  );
  const app = await call(ctx, `Pausing ${tenant}/${name}`, c =>
    c.pauseApp(tenant, name, { expectedGeneration: before.sync.generation }),
  );
  progress(ctx, `Pausing ${app.ref}`);
  await settle(ctx, app, 'Paused', { target: 'paused', before });
}

async function resume(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  const before = await call(ctx, `${tenant}/${name}`, c =>
    c.getApp(tenant, name),
  );
  const app = await call(ctx, `Resuming ${tenant}/${name}`, c =>
    c.resumeApp(tenant, name, { expectedGeneration: before.sync.generation }),
  );
  progress(ctx, `Resuming ${app.ref}`);
  await settle(ctx, app, 'Resumed', { target: 'ready', before });
}

async function revisions(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  const [app, { items }] = await call(ctx, `${tenant}/${name}`, c =>
    Promise.all([c.getApp(tenant, name), c.listRevisions(tenant, name)]),
  );
  const sorted = [...items].sort((a, b) => b.revision - a.revision);
  print(ctx, revisionsTable(sorted, app.revision), sorted);
}

async function rollback(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  let revision = intOption(ctx.values, 'revision', 1, Number.MAX_SAFE_INTEGER);
  const app = await call(ctx, `${tenant}/${name}`, c => c.getApp(tenant, name));
  if (revision === undefined) {
    const { items } = await call(ctx, `Revisions of ${tenant}/${name}`, c =>
      c.listRevisions(tenant, name),
    );
    const earlier = items
      .map(r => r.revision)
      .filter(r => r < app.revision)
      .sort((a, b) => b - a);
    if (!earlier.length) {
      throw new CliError(
        `${app.ref} has no revision before ${app.revision} to go back to`,
        EXIT.failure,
      );
    }
    revision = earlier[0];
  }
  const to = revision;
  const rolled = await call(ctx, `Rolling back ${tenant}/${name}`, c =>
    c.rollbackApp(tenant, name, to, {
      expectedGeneration: app.sync.generation,
    }),
  );
  progress(
    ctx,
    `Rolling ${rolled.ref} back to revision ${to}'s config (now revision ${rolled.revision}, ${rolled.image})`,
  );
  await settle(ctx, rolled, `Rolled back to revision ${to}`, {
    before: app,
  });
}

async function deleteApp(ctx: Context) {
  const { name } = appArgs(ctx);
  const tenant = await resolveTenant(ctx);
  const app = await call(ctx, `${tenant}/${name}`, c => c.getApp(tenant, name));
  if (ctx.values.yes !== true) {
    const answer = ctx.io.ask
      ? await ctx.io.ask(
          `Delete ${app.ref}? Its URL stops answering. Type the app name to confirm: `,
        )
      : undefined;
    if (answer === undefined) {
      throw new UsageError(
        `paved delete: add --yes to delete ${app.ref} (stdin is not a terminal to ask)`,
      );
    }
    if (answer.trim() !== name) {
      throw new CliError('Not deleted: the name did not match', EXIT.failure);
    }
  }
  await call(ctx, `Deleting ${app.ref}`, c =>
    c.deleteApp(tenant, name, { expectedGeneration: app.sync.generation }),
  );
  if (ctx.values.wait !== true) {
    print(ctx, `Deleting ${app.ref}.\n`, { tenant, name, deleting: true });
    return;
  }
  const started = Date.now();
  const deadline = started + timeoutMs(ctx.values);
  progress(ctx, `Deleting ${app.ref}`);
  for (;;) {
    const found = await call(ctx, `Reading ${app.ref}`, c =>
      findApp(c, tenant, name),
    );
    if (!found) break;
    if (Date.now() > deadline) {
      throw new CliError(
        `Timed out waiting for ${app.ref} to be deleted (${
          found.status.phase ?? 'no phase'
        })`,
        EXIT.timeout,
      );
    }
    await ctx.sleep(1000);
  }
  print(ctx, `Deleted ${app.ref} (${seconds(Date.now() - started)}).\n`, {
    tenant,
    name,
    deleted: true,
  });
}

export const HANDLERS: Record<string, (ctx: Context) => Promise<void>> = {
  login,
  logout,
  whoami,
  deploy,
  apps,
  status,
  tenants,
  env: envList,
  'env set': envSet,
  'env unset': envUnset,
  pause,
  resume,
  revisions,
  rollback,
  delete: deleteApp,
};
