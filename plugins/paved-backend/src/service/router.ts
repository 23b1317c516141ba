import type {
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import type { Knex } from 'knex';
import {
  AppSpec,
  EnvVarInput,
  Plan,
  SECRET_MASK,
  appDeletePermission,
  appDeployPermission,
  appSpecSchema,
  appUpdatePermission,
  effectiveLimits,
  tenantCreatePermission,
  tenantDeletePermission,
  tenantReadPermission,
  tenantUpdatePermission,
} from '@paved/plugin-paved-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import type { ClusterSync } from '../cluster/ClusterSync';
import { appSecretName } from '../cluster/resources';
import type { StatusCache } from '../cluster/StatusCache';
import {
  Actor,
  AppAction,
  AppRecord,
  PavedStore,
  REVISIONS_KEPT,
  TenantRecord,
} from '../database/PavedStore';
import type { TenantAccess } from '../permissions/TenantAccess';
import {
  tenantIsolationDisablePermission,
  tenantLimitsOverridePermission,
  tenantPlanChangePermission,
} from '../permissions/permissions';
import { MethodNotAllowedError, errorHandler } from './errors';
import { jsonBody } from './framing';
import { openApiDocument } from './openapi';
import {
  DEFAULT_RATE_LIMIT,
  RateLimitOptions,
  WriteRateLimiter,
} from './rateLimit';
import {
  createTenantRequestSchema,
  deployAppRequestSchema,
  describeIssues,
  emptyRequestSchema,
  parseAppName,
  parseInput,
  parseExpectedGenerationQuery,
  parseTenantName,
  patchEnvRequestSchema,
  rollbackRequestSchema,
  updateTenantRequestSchema,
} from './requests';
import {
  ViewContext,
  appView,
  auditView,
  revisionView,
  tenantView,
} from './views';

/** How long a write waits for its apply before answering (it continues in the background). */
const SYNC_WAIT_MS = 3000;

export interface RouterOptions {
  store: PavedStore;
  access: TenantAccess;
  httpAuth: HttpAuthService;
  sync: ClusterSync;
  cache?: StatusCache;
  plans: () => Plan[];
  namespacePrefix?: string;
  logger: LoggerService;
  /** The database the write rate limit counts in (all replicas share it). */
  database: Knex;
  rateLimit?: RateLimitOptions;
}

function actorOf(credentials: BackstageCredentials): Actor {
  const principal = credentials.principal as any;
  if (principal.type === 'user') {
    return { ref: principal.userEntityRef, principalType: 'user' };
  }
  if (principal.type === 'service') {
    return { ref: `service:${principal.subject}`, principalType: 'service' };
  }
  return { ref: 'anonymous', principalType: 'none' };
}

export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { store, access, httpAuth, sync, plans, logger } = options;
  const ctx: ViewContext = {
    plans,
    cache: options.cache,
    namespacePrefix: options.namespacePrefix,
  };
  const router = Router();
  // Once per request: the rate limit and the route both need them.
  const credentialsByRequest = new WeakMap<
    Request,
    Promise<BackstageCredentials>
  >();
  const credentialsOf = (req: Request) => {
    let found = credentialsByRequest.get(req);
    if (!found) {
      found = httpAuth.credentials(req, { allow: ['user', 'service'] });
      credentialsByRequest.set(req, found);
    }
    return found;
  };

  // Every write counts against its caller's rate limit, refused ones too,
  // before anything reads the body.
  const limiter = new WriteRateLimiter(
    options.database,
    options.rateLimit ?? DEFAULT_RATE_LIMIT,
  );
  router.use(async (req, _res, next) => {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      await limiter.take(actorOf(await credentialsOf(req)).ref);
    }
    next();
  });
  router.use(jsonBody());

  const planNamed = (name: string): Plan => {
    const plan = plans().find(p => p.name === name);
    if (!plan) {
      throw new InputError(
        `Invalid plan: "${name}" is not a plan; choose one of ${plans()
          .map(p => p.name)
          .join(', ')}`,
      );
    }
    return plan;
  };

  const requireLimitsOverride = (credentials: BackstageCredentials) =>
    access.requireBasic(
      credentials,
      tenantLimitsOverridePermission,
      'Overriding plan limits is for the platform team (permission paved.tenant.limits.override); choose a bigger plan instead, or ask them',
    );
  const requireIsolationDisable = (credentials: BackstageCredentials) =>
    access.requireBasic(
      credentials,
      tenantIsolationDisablePermission,
      'Turning network isolation off is for the platform team (permission paved.tenant.isolation.disable); keep networkIsolation on, or ask them',
    );
  const requirePlanChange = (credentials: BackstageCredentials) =>
    access.requireBasic(
      credentials,
      tenantPlanChangePermission,
      'Moving a tenant to another plan is for the platform team (permission paved.tenant.plan.change); ask them, or override one limit if you are one of them',
    );

  /** Waits briefly for an apply so the answer usually shows it done. */
  const settle = async (work: Promise<unknown>) => {
    const sync$ = work.catch(error =>
      logger.warn(`Background sync failed: ${error}`),
    );
    await Promise.race([
      sync$,
      new Promise(resolve => setTimeout(resolve, SYNC_WAIT_MS).unref()),
    ]);
  };

  const tenantWithCount = async (tenant: TenantRecord) =>
    tenantView(tenant, await store.countApps(tenant.name), ctx);

  const loadApp = async (tenant: string, name: string): Promise<AppRecord> => {
    const app = await store.getApp(tenant, name);
    if (!app || app.deleting) {
      throw new NotFoundError(`App ${tenant}/${name} not found`);
    }
    return app;
  };

  // -------------------------------------------------------------- meta

  // Built once: it is derived from the zod schemas, which do not change.
  const openApi = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  router.get('/plans', (_req, res) => {
    res.json({ items: plans() });
  });

  // ----------------------------------------------------------- tenants

  router.get('/tenants', async (req, res) => {
    const credentials = await credentialsOf(req);
    const filter = await access.readFilter(credentials);
    const tenants = await store.listTenants({ filter });
    const counts = await store.appCounts(tenants.map(t => t.name));
    res.json({
      items: tenants.map(t => tenantView(t, counts.get(t.name) ?? 0, ctx)),
    });
  });

  router.post('/tenants', async (req, res) => {
    const credentials = await credentialsOf(req);
    const body = parseInput(createTenantRequestSchema, req.body, 'tenant');
    planNamed(body.plan);
    await access.requireBasic(credentials, tenantCreatePermission);
    if (body.limits !== undefined) await requireLimitsOverride(credentials);
    if (body.networkIsolation === false) {
      await requireIsolationDisable(credentials);
    }
    // Only create tenants you could then manage: otherwise a typo in the
    // owner leaves a tenant nobody (but an admin) can reach.
    const candidate: TenantRecord = {
      ...body,
      generation: 0,
      appliedGeneration: 0,
      deleting: false,
      createdBy: '',
      createdAt: '',
      updatedAt: '',
    };
    if (
      !(await access.allowed(credentials, tenantUpdatePermission, candidate))
    ) {
      throw new NotAllowedError(
        `You may not create a tenant owned by ${body.owner}: you are not a member of it; choose a group you belong to`,
      );
    }
    const tenant = await store.createTenant(
      {
        name: body.name,
        displayName: body.displayName,
        owner: body.owner,
        plan: body.plan,
        limits: body.limits,
        networkIsolation: body.networkIsolation,
      },
      actorOf(credentials),
    );
    await settle(sync.syncTenant(tenant.name));
    const saved = (await store.getTenant(tenant.name)) ?? tenant;
    res.status(201).json(await tenantWithCount(saved));
  });

  router.get('/tenants/:tenant', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    const tenant = await access.require(
      credentials,
      tenantReadPermission,
      name,
    );
    res.json(await tenantWithCount(tenant));
  });

  router.patch('/tenants/:tenant', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    const body = parseInput(updateTenantRequestSchema, req.body, 'update');
    if (
      Object.keys(body).filter(k => k !== 'expectedGeneration').length === 0
    ) {
      throw new InputError(
        'Invalid update: give at least one of displayName, plan, limits, networkIsolation',
      );
    }
    const current = await access.require(
      credentials,
      tenantUpdatePermission,
      name,
    );
    if (body.limits !== undefined) await requireLimitsOverride(credentials);
    if (body.networkIsolation === false && current.networkIsolation) {
      await requireIsolationDisable(credentials);
    }
    if (body.plan !== undefined) {
      planNamed(body.plan);
      if (body.plan !== current.plan) await requirePlanChange(credentials);
    }
    const tenant = await store.updateTenant(
      name,
      {
        displayName: body.displayName,
        plan: body.plan,
        limits: body.limits,
        networkIsolation: body.networkIsolation,
      },
      {
        actor: actorOf(credentials),
        expectedGeneration: body.expectedGeneration,
        // In the transaction, with the tenant locked: a deploy cannot add
        // an app between this check and the plan change.
        check: (next, apps) => {
          const plan = planNamed(next.plan);
          const limits = effectiveLimits(plan, next.limits);
          if (apps > limits.maxApps) {
            throw new ConflictError(
              `Tenant ${name} has ${apps} apps, more than the ${limits.maxApps} that plan "${plan.name}" allows; delete apps first or choose a bigger plan`,
            );
          }
        },
      },
    );
    await settle(sync.syncTenant(name));
    const synced = await store.getTenant(name);
    res.json(
      await tenantWithCount(
        synced && synced.generation === tenant.generation ? synced : tenant,
      ),
    );
  });

  router.delete('/tenants/:tenant', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    const expectedGeneration = parseExpectedGenerationQuery(req.query);
    await access.require(credentials, tenantDeletePermission, name);
    await store.markTenantDeleting(name, actorOf(credentials), {
      expectedGeneration,
    });
    await settle(sync.syncTenant(name));
    res.status(202).json({ name, deleting: true });
  });

  router.get('/tenants/:tenant/audit', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    await access.require(credentials, tenantReadPermission, name);
    const entries = await store.listAudit({ tenant: name });
    res.json({ items: entries.map(auditView) });
  });

  // -------------------------------------------------------------- apps

  router.get('/apps', async (req, res) => {
    const credentials = await credentialsOf(req);
    const filter = await access.readFilter(credentials);
    const apps = await store.listApps({ filter });
    res.json({ items: apps.map(app => appView(app, ctx)) });
  });

  router.get('/tenants/:tenant/apps', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    await access.require(credentials, tenantReadPermission, name);
    const apps = await store.listApps({ tenant: name });
    res.json({ items: apps.map(app => appView(app, ctx)) });
  });

  router.get('/tenants/:tenant/apps/:app', async (req, res) => {
    const credentials = await credentialsOf(req);
    const tenant = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    await access.require(credentials, tenantReadPermission, tenant);
    res.json(appView(await loadApp(tenant, name), ctx));
  });

  /** Saves an app write, applies it, and answers with the app. */
  const writeApp = async (
    req: Request,
    res: express.Response,
    write: {
      action: AppAction;
      spec: (current: AppRecord | undefined) => AppSpec;
      secrets?: Map<string, string>;
      keepSecrets?: (current: AppRecord | undefined) => string[];
      expectedGeneration?: number;
      redeploy?: boolean;
      detail?: Record<string, unknown>;
      mustExist: boolean;
    },
  ) => {
    const credentials = await credentialsOf(req);
    const tenantName = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    // Visibility first: another team's tenant answers as a missing one,
    // whether or not the app exists.
    const tenant = await access.require(
      credentials,
      tenantReadPermission,
      tenantName,
    );
    const existing = await store.getApp(tenantName, name);
    const exists = Boolean(existing && !existing.deleting);
    await access.requireOn(
      credentials,
      exists ? appUpdatePermission : appDeployPermission,
      tenant,
    );
    if (write.mustExist && !exists) {
      throw new NotFoundError(`App ${tenantName}/${name} not found`);
    }
    const app = await store.writeApp({
      tenant: tenantName,
      name,
      spec: current => {
        if (write.mustExist && !current) {
          throw new NotFoundError(`App ${tenantName}/${name} not found`);
        }
        return write.spec(current);
      },
      secrets: write.secrets,
      keepSecrets: write.keepSecrets?.(existing),
      action: write.action,
      actor: actorOf(credentials),
      expectedGeneration: write.expectedGeneration,
      maxApps: locked =>
        effectiveLimits(planNamed(locked.plan), locked.limits).maxApps,
      redeploy: write.redeploy,
      detail: write.detail,
    });
    await settle(sync.syncApp(tenantName, name));
    // The answer describes this write: its spec and revision, with the
    // sync state only while no later write has replaced it.
    const synced = await store.getApp(tenantName, name);
    const { created, ...written } = app;
    res
      .status(created ? 201 : 200)
      .json(
        appView(
          synced && synced.generation === written.generation ? synced : written,
          ctx,
        ),
      );
  };

  router.put('/tenants/:tenant/apps/:app', async (req, res) => {
    const body = parseInput(deployAppRequestSchema, req.body, 'deploy request');
    const appName = req.params.app;
    const env = splitEnv(body.env ?? [], appName);
    await writeApp(req, res, {
      action: 'deploy',
      mustExist: false,
      expectedGeneration: body.expectedGeneration,
      secrets: env.secrets,
      keepSecrets: current => keptSecrets(env.masked, current),
      spec: () =>
        validSpec({
          image: body.image,
          port: body.port,
          env: env.spec,
          scaling: body.scaling,
          resources: body.resources,
          domains: body.domains,
          paused: body.paused,
        }),
    });
  });

  router.patch('/tenants/:tenant/apps/:app/env', async (req, res) => {
    const body = parseInput(patchEnvRequestSchema, req.body, 'env patch');
    const set = splitEnv(body.set ?? [], req.params.app);
    const remove = new Set(body.remove ?? []);
    for (const entry of body.set ?? []) {
      if (remove.has(entry.name)) {
        throw new InputError(
          `Invalid env patch: ${entry.name} is both set and removed; keep one`,
        );
      }
    }
    await writeApp(req, res, {
      action: 'patch-env',
      mustExist: true,
      expectedGeneration: body.expectedGeneration,
      secrets: set.secrets,
      keepSecrets: current =>
        (current?.spec.env ?? [])
          .filter(e => e.secretKeyRef && !remove.has(e.name))
          .filter(
            e =>
              !set.spec.some(s => s.name === e.name) ||
              set.masked.includes(e.name),
          )
          .map(e => e.name),
      detail: { set: set.spec.map(e => e.name), remove: [...remove] },
      spec: current => {
        for (const name of set.masked) {
          if (!current!.spec.env.some(e => e.name === name && e.secretKeyRef)) {
            throw new InputError(
              `Invalid env patch: ${name} has the mask "${SECRET_MASK}" as value but no saved secret; send the real value`,
            );
          }
        }
        const changed = new Set(set.spec.map(e => e.name));
        const env = [
          ...current!.spec.env.filter(
            e => !remove.has(e.name) && !changed.has(e.name),
          ),
          ...set.spec,
        ];
        return validSpec({ ...current!.spec, env });
      },
    });
  });

  const pausedWrite =
    (paused: boolean) => async (req: Request, res: express.Response) => {
      const body = parseInput(emptyRequestSchema, req.body, 'request');
      await writeApp(req, res, {
        action: paused ? 'pause' : 'resume',
        mustExist: true,
        expectedGeneration: body?.expectedGeneration,
        keepSecrets: keepAllSecrets,
        spec: current => ({ ...current!.spec, paused }),
      });
    };
  router.post('/tenants/:tenant/apps/:app/pause', pausedWrite(true));
  router.post('/tenants/:tenant/apps/:app/resume', pausedWrite(false));

  router.post('/tenants/:tenant/apps/:app/redeploy', async (req, res) => {
    const body = parseInput(emptyRequestSchema, req.body, 'request');
    await writeApp(req, res, {
      action: 'redeploy',
      mustExist: true,
      redeploy: true,
      expectedGeneration: body?.expectedGeneration,
      keepSecrets: keepAllSecrets,
      spec: current => current!.spec,
    });
  });

  router.post('/tenants/:tenant/apps/:app/rollback', async (req, res) => {
    const body = parseInput(rollbackRequestSchema, req.body, 'rollback');
    const tenant = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    const target = await store.getRevision(tenant, name, body.revision);
    await writeApp(req, res, {
      action: 'rollback',
      mustExist: true,
      expectedGeneration: body.expectedGeneration,
      keepSecrets: keepAllSecrets,
      detail: { to: body.revision },
      spec: current => {
        if (!target) {
          throw new InputError(
            `Invalid rollback: app ${tenant}/${name} has no revision ${
              body.revision
            }; its latest is ${
              current!.revision
            } and the latest ${REVISIONS_KEPT} are kept`,
          );
        }
        const stored = new Set(
          current!.spec.env.filter(e => e.secretKeyRef).map(e => e.name),
        );
        const lost = target.spec.env.filter(
          e => e.secretKeyRef && !stored.has(e.name),
        );
        if (lost.length) {
          throw new ConflictError(
            `Revision ${body.revision} uses secret ${lost
              .map(e => e.name)
              .join(
                ', ',
              )}, whose value is no longer stored; deploy with the value instead`,
          );
        }
        return target.spec;
      },
    });
  });

  router.delete('/tenants/:tenant/apps/:app', async (req, res) => {
    const credentials = await credentialsOf(req);
    const tenant = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    const expectedGeneration = parseExpectedGenerationQuery(req.query);
    await access.require(credentials, appDeletePermission, tenant);
    await loadApp(tenant, name);
    await store.markAppDeleting(tenant, name, actorOf(credentials), {
      expectedGeneration,
    });
    await settle(sync.syncApp(tenant, name));
    res.status(202).json({ tenant, name, deleting: true });
  });

  router.get('/tenants/:tenant/apps/:app/revisions', async (req, res) => {
    const credentials = await credentialsOf(req);
    const tenant = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    await access.require(credentials, tenantReadPermission, tenant);
    await loadApp(tenant, name);
    const revisions = await store.listRevisions(tenant, name);
    res.json({ items: revisions.map(r => revisionView(r, ctx)) });
  });

  router.get('/tenants/:tenant/apps/:app/events', async (req, res) => {
    const credentials = await credentialsOf(req);
    const tenant = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    await access.require(credentials, tenantReadPermission, tenant);
    const { status } = appView(await loadApp(tenant, name), ctx);
    res.json({
      known: status.known,
      phase: status.phase,
      message: status.message,
      conditions: status.conditions ?? [],
    });
  });

  router.get('/tenants/:tenant/apps/:app/audit', async (req, res) => {
    const credentials = await credentialsOf(req);
    const tenant = parseTenantName(req.params.tenant);
    const name = parseAppName(req.params.app);
    await access.require(credentials, tenantReadPermission, tenant);
    const entries = await store.listAudit({ tenant, app: name });
    res.json({ items: entries.map(auditView) });
  });

  // What no route answered: 405 with Allow where the path exists, else 404.
  router.use((req, _res, next) => {
    const allow = allowedMethods(router, req.path);
    if (allow.length) {
      next(
        new MethodNotAllowedError(
          `${req.method} is not allowed on ${req.baseUrl}${
            req.path
          }; use ${allow.join(', ')}`,
          allow,
        ),
      );
      return;
    }
    next(
      new NotFoundError(
        `No API route ${req.method} ${req.baseUrl}${req.path}; the routes are listed in ${req.baseUrl}/openapi.json`,
      ),
    );
  });
  router.use(errorHandler(logger));

  return router;
}

/** The methods the router's routes answer on `path` (HEAD with GET). */
function allowedMethods(router: express.Router, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of router.stack as any[]) {
    if (!layer.route || !layer.match(path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** The secret env names of the current app, all kept. */
function keepAllSecrets(current: AppRecord | undefined): string[] {
  return (current?.spec.env ?? []).filter(e => e.secretKeyRef).map(e => e.name);
}

/** Secret names sent back masked, kept only if they are saved secrets now. */
function keptSecrets(masked: string[], current: AppRecord | undefined) {
  const saved = new Set(keepAllSecrets(current));
  for (const name of masked) {
    if (!saved.has(name)) {
      throw new InputError(
        `Invalid deploy request: env ${name} has the mask "${SECRET_MASK}" as value but no saved secret; send the real value`,
      );
    }
  }
  return masked;
}

/**
 * Splits env input into the spec entries (secrets become references to the
 * app's Secret), the secret values to store, and masked secrets to keep.
 */
function splitEnv(env: EnvVarInput[], app: string) {
  const spec: AppSpec['env'] = [];
  const secrets = new Map<string, string>();
  const masked: string[] = [];
  for (const entry of env) {
    if (entry.secret) {
      spec.push({
        name: entry.name,
        secretKeyRef: { name: appSecretName(app), key: entry.name },
      });
      if (entry.value === SECRET_MASK) masked.push(entry.name);
      else secrets.set(entry.name, entry.value);
    } else {
      spec.push({ name: entry.name, value: entry.value });
    }
  }
  return { spec, secrets, masked };
}

/** Validates a whole spec (cross-field rules) and fills defaults. */
function validSpec(input: unknown): AppSpec {
  const result = appSpecSchema.safeParse(input);
  if (!result.success) {
    throw new InputError(
      `Invalid deploy request: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}
