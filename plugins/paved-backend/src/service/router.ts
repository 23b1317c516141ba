import type { PavedMetrics } from './metrics';
import type {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import type { Knex } from 'knex';
import type { Plan } from '@paved/plugin-paved-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import type { KubeClient } from '@paved/kube';
import type { ClusterSync } from '../cluster/ClusterSync';
import type { AppChanges } from '../services/appChanges';
import type { StatusCache } from '../cluster/StatusCache';
import type { PavedStore } from '../database/PavedStore';
import type { TenantAccess } from '../permissions/TenantAccess';
import { AppService } from '../services/AppService';
import { DomainService } from '../services/DomainService';
import { HistoryService } from '../services/HistoryService';
import { LogService } from '../services/LogService';
import { TenantService } from '../services/TenantService';
import { ServiceContext, actorOf, noteClient } from '../services/context';
import { MethodNotAllowedError, errorHandler } from './errors';
import { auditWrite, auditedWrite } from './audit';
import { streamEvents } from './eventStream';
import { jsonBody, preferredWaitSeconds } from './framing';
import {
  assertDocumented,
  openApiRequestValidation,
} from './openApiValidation';
import {
  openApiDocument,
  createTenantRequestSchema,
  deployAppRequestSchema,
  emptyRequestSchema,
  parseAppName,
  DELETED_TENANT_UID_PATTERN,
  PAVED_CLIENT_HEADER,
  logsQueryShape,
  pageQueryShape,
  parseInput,
  parseExpectedGenerationQuery,
  parseQuery,
  parseTenantName,
  patchEnvRequestSchema,
  rollbackRequestSchema,
  domainSchema,
  putDomainRequestSchema,
  updateTenantRequestSchema,
} from '@paved/plugin-paved-common';
import {
  DEFAULT_RATE_LIMIT,
  RateLimitOptions,
  WriteRateLimiter,
} from './rateLimit';

export interface RouterOptions {
  store: PavedStore;
  access: TenantAccess;
  httpAuth: HttpAuthService;
  /** Every write is an audit event (service/audit.ts). */
  auditor: AuditorService;
  sync: ClusterSync;
  cache?: StatusCache;
  /** Wakes long polls of app reads; one per backend. */
  appChanges: AppChanges;
  /** The cluster's API, for logs and events (none configured: they answer 503). */
  kube?: KubeClient;
  plans: () => Plan[];
  namespacePrefix?: string;
  logger: LoggerService;
  /** The database the write rate limit counts in (all replicas share it). */
  database: Knex;
  rateLimit?: RateLimitOptions;
  /** The backend's own metrics (service/metrics.ts); none when absent. */
  metrics?: PavedMetrics;
}

/**
 * The HTTP side of the API: framing, credentials, the write rate limit,
 * request schemas and route parameters, then one call to TenantService or
 * AppService (src/services/, where the rules are), and the answer.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, logger } = options;
  const context = new ServiceContext(options);
  const tenants = new TenantService(context);
  const apps = new AppService(context);
  const domains = new DomainService(apps);
  const logs = new LogService(context);
  const history = new HistoryService(context);
  const router = Router();
  if (options.metrics) router.use(options.metrics.requestMiddleware());
  // Once per request: the rate limit and the route both need them.
  const credentialsByRequest = new WeakMap<
    Request,
    Promise<BackstageCredentials>
  >();
  const credentialsOf = (req: Request) => {
    let found = credentialsByRequest.get(req);
    if (!found) {
      found = httpAuth
        .credentials(req, { allow: ['user', 'service'] })
        .then(credentials => {
          noteClient(credentials, req.header(PAVED_CLIENT_HEADER));
          return credentials;
        });
      credentialsByRequest.set(req, found);
    }
    return found;
  };

  // Every write is audited and counts against its caller's rate limit,
  // refused ones too, before anything reads the body.
  const limiter = new WriteRateLimiter(
    options.database,
    options.rateLimit ?? DEFAULT_RATE_LIMIT,
  );
  router.use(async (req, res, next) => {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      const actor = actorOf(await credentialsOf(req));
      const write = auditedWrite(req.method, req.path);
      if (write) {
        await auditWrite({
          auditor: options.auditor,
          logger,
          req,
          res,
          write,
          via: actor.via ?? 'api',
        });
      }
      await limiter.take(actor.ref);
    }
    next();
  });
  // Built once: it is derived from the zod schemas, which do not change.
  const openApi = openApiDocument();
  router.use(jsonBody());
  // What the OpenAPI document says of each request, for assertDocumented.
  router.use(openApiRequestValidation(openApi));

  /** The tenant and app named in the path. */
  const appPath = (req: Request) => ({
    tenant: parseTenantName(req.params.tenant),
    app: parseAppName(req.params.app),
  });
  const answerWrite = (
    res: express.Response,
    result: { created: boolean; app: unknown },
  ) => res.status(result.created ? 201 : 200).json(result.app);

  // -------------------------------------------------------------- meta

  router.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  router.get('/plans', (req, res) => {
    assertDocumented(req);
    res.json({ items: options.plans() });
  });

  // ----------------------------------------------------------- tenants

  router.get('/tenants', async (req, res) => {
    assertDocumented(req);
    res.json({ items: await tenants.list(await credentialsOf(req)) });
  });

  router.post('/tenants', async (req, res) => {
    const credentials = await credentialsOf(req);
    const body = parseInput(createTenantRequestSchema, req.body, 'tenant');
    assertDocumented(req);
    res.status(201).json(await tenants.create(credentials, body));
  });

  router.get('/tenants/:tenant', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    assertDocumented(req);
    res.json(await tenants.get(credentials, name));
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
    assertDocumented(req);
    res.json(await tenants.update(credentials, name, body));
  });

  router.delete('/tenants/:tenant', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    const expectedGeneration = parseExpectedGenerationQuery(req.query);
    assertDocumented(req);
    res
      .status(202)
      .json(await tenants.delete(credentials, name, expectedGeneration));
  });

  router.get('/tenants/:tenant/audit', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    const page = parseQuery(pageQueryShape, req.query, 'audit');
    assertDocumented(req);
    res.json(await history.tenantAudit(credentials, name, page));
  });

  // ------------------------------------------------- deleted tenants

  router.get('/history/tenants', async (req, res) => {
    parseQuery({}, req.query, 'history/tenants');
    assertDocumented(req);
    res.json({ items: await history.deletedTenants(await credentialsOf(req)) });
  });

  router.get('/history/tenants/:uid/audit', async (req, res) => {
    const credentials = await credentialsOf(req);
    const uid = parseDeletedTenantUid(req.params.uid);
    const page = parseQuery(pageQueryShape, req.query, 'audit');
    assertDocumented(req);
    res.json(await history.deletedTenantAudit(credentials, uid, page));
  });

  // -------------------------------------------------------------- apps

  router.get('/apps', async (req, res) => {
    const page = parseQuery(pageQueryShape, req.query, 'apps');
    assertDocumented(req);
    res.json(await apps.list(await credentialsOf(req), page));
  });

  router.get('/tenants/:tenant/apps', async (req, res) => {
    const credentials = await credentialsOf(req);
    const name = parseTenantName(req.params.tenant);
    const page = parseQuery(pageQueryShape, req.query, 'apps');
    assertDocumented(req);
    res.json(await apps.listInTenant(credentials, name, page));
  });

  // A long poll when asked: with If-None-Match (the ETag of the last
  // answer) and Prefer: wait=N, the answer comes once the app differs from
  // it, or after N seconds as 304 Not Modified (Express answers 304 when
  // If-None-Match matches the ETag set here).
  router.get('/tenants/:tenant/apps/:app', async (req, res) => {
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    const waitSeconds = preferredWaitSeconds(req.header('prefer'));
    assertDocumented(req);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const answer = await apps.getWhenChanged(credentials, tenant, app, {
      unless: req.header('if-none-match'),
      waitMs: waitSeconds * 1000,
      signal: gone.signal,
    });
    if (waitSeconds) res.setHeader('Preference-Applied', `wait=${waitSeconds}`);
    res.setHeader('ETag', answer.etag);
    res.setHeader('Cache-Control', 'no-cache');
    res.json(answer.app);
  });

  router.put('/tenants/:tenant/apps/:app', async (req, res) => {
    const body = parseInput(deployAppRequestSchema, req.body, 'deploy request');
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    assertDocumented(req);
    answerWrite(res, await apps.deploy(credentials, tenant, app, body));
  });

  // A custom domain of an app, with the certificate its owner brings.
  const domainPath = (req: Request) => ({
    ...appPath(req),
    domain: parseInput(domainSchema, req.params.domain, 'domain in the path'),
  });
  router.put('/tenants/:tenant/apps/:app/domains/:domain', async (req, res) => {
    const body = parseInput(
      putDomainRequestSchema,
      req.body ?? {},
      'domain request',
    );
    const credentials = await credentialsOf(req);
    const { tenant, app, domain } = domainPath(req);
    assertDocumented(req);
    res.json(await domains.put(credentials, tenant, app, domain, body));
  });
  router.delete(
    '/tenants/:tenant/apps/:app/domains/:domain',
    async (req, res) => {
      const credentials = await credentialsOf(req);
      const { tenant, app, domain } = domainPath(req);
      const expectedGeneration = parseExpectedGenerationQuery(req.query);
      assertDocumented(req);
      res.json(
        await domains.remove(
          credentials,
          tenant,
          app,
          domain,
          expectedGeneration,
        ),
      );
    },
  );

  router.patch('/tenants/:tenant/apps/:app/env', async (req, res) => {
    const body = parseInput(patchEnvRequestSchema, req.body, 'env patch');
    const remove = new Set(body.remove ?? []);
    for (const entry of body.set ?? []) {
      if (remove.has(entry.name)) {
        throw new InputError(
          `Invalid env patch: ${entry.name} is both set and removed; keep one`,
        );
      }
    }
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    assertDocumented(req);
    answerWrite(res, await apps.patchEnv(credentials, tenant, app, body));
  });

  const pausedWrite =
    (paused: boolean) => async (req: Request, res: express.Response) => {
      const body = parseInput(emptyRequestSchema, req.body, 'request');
      const credentials = await credentialsOf(req);
      const { tenant, app } = appPath(req);
      assertDocumented(req);
      answerWrite(
        res,
        await apps.setPaused(credentials, tenant, app, paused, body),
      );
    };
  router.post('/tenants/:tenant/apps/:app/pause', pausedWrite(true));
  router.post('/tenants/:tenant/apps/:app/resume', pausedWrite(false));

  router.post('/tenants/:tenant/apps/:app/redeploy', async (req, res) => {
    const body = parseInput(emptyRequestSchema, req.body, 'request');
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    assertDocumented(req);
    answerWrite(res, await apps.redeploy(credentials, tenant, app, body));
  });

  router.post('/tenants/:tenant/apps/:app/rollback', async (req, res) => {
    const body = parseInput(rollbackRequestSchema, req.body, 'rollback');
    const { tenant, app } = appPath(req);
    const credentials = await credentialsOf(req);
    assertDocumented(req);
    answerWrite(res, await apps.rollback(credentials, tenant, app, body));
  });

  router.delete('/tenants/:tenant/apps/:app', async (req, res) => {
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    const expectedGeneration = parseExpectedGenerationQuery(req.query);
    assertDocumented(req);
    res
      .status(202)
      .json(await apps.delete(credentials, tenant, app, expectedGeneration));
  });

  router.get('/tenants/:tenant/apps/:app/revisions', async (req, res) => {
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    assertDocumented(req);
    res.json({ items: await apps.revisions(credentials, tenant, app) });
  });

  router.get('/tenants/:tenant/apps/:app/events', async (req, res) => {
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    const page = parseQuery(pageQueryShape, req.query, 'events');
    assertDocumented(req);
    res.json(await history.appEvents(credentials, tenant, app, page));
  });

  router.get('/tenants/:tenant/apps/:app/logs', async (req, res) => {
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    const query = parseQuery(logsQueryShape, req.query, 'logs');
    assertDocumented(req);
    const session = await logs.open(credentials, tenant, app, query);
    await streamEvents(res, session, error => {
      logger.warn(`Log stream of ${tenant}/${app} failed: ${error}`);
      return `Reading the logs failed: ${
        error instanceof Error ? error.message : error
      }; try again`;
    });
  });

  router.get('/tenants/:tenant/apps/:app/audit', async (req, res) => {
    const credentials = await credentialsOf(req);
    const { tenant, app } = appPath(req);
    const page = parseQuery(pageQueryShape, req.query, 'audit');
    assertDocumented(req);
    res.json(await history.appAudit(credentials, tenant, app, page));
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

/** A deleted tenant's uid in the path (a UUID, as GET /history/tenants lists them). */
function parseDeletedTenantUid(value: string): string {
  if (!new RegExp(DELETED_TENANT_UID_PATTERN).test(value)) {
    throw new InputError(
      'Invalid uid in the path: give the uid of a deleted tenant as GET /history/tenants lists it',
    );
  }
  return value;
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
