import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  AppSpec,
  AppView,
  EnvVarInput,
  Page,
  PageOptions,
  RevisionView,
  SECRET_MASK,
  appDeletePermission,
  appDeployPermission,
  appSpecSchema,
  appUpdatePermission,
  effectiveLimits,
  tenantReadPermission,
  describeIssues,
} from '@paved/plugin-paved-common';
import { appSecretName } from '../cluster/resources';
import {
  AppAction,
  AppRecord,
  ListAppsOptions,
  REVISIONS_KEPT,
  TenantRecord,
} from '../database/PavedStore';
import { tenantNotFound } from '../permissions/TenantAccess';
import type { DomainCertificate } from '../database/DomainStore';
import type {
  deployAppRequestSchema,
  emptyRequestSchema,
  patchEnvRequestSchema,
  rollbackRequestSchema,
} from '@paved/plugin-paved-common';
import { appView, revisionView } from '../service/views';
import { entityTag } from './appChanges';
import { decodeCursor, encodeCursor } from './cursors';
import { Parsed, ServiceContext, actorOf } from './context';

/** An app write's answer: the app as this write left it, and whether it created it (201). */
export interface AppWriteResult {
  created: boolean;
  app: AppView;
}

/** What an app write changes, for {@link AppService}'s one write path. */
export interface WritePlan {
  action: AppAction;
  /** The new spec from the app as locked (undefined: new or being deleted). */
  spec: (current: AppRecord | undefined) => AppSpec;
  secrets?: Map<string, string>;
  keepSecrets?: (current: AppRecord | undefined) => string[];
  expectedGeneration?: number;
  redeploy?: boolean;
  detail?: Record<string, unknown>;
  /** 404 unless the app exists (every write but deploy). */
  mustExist: boolean;
  /** Certificates of domains to save (null: remove); DomainService's writes. */
  certificates?: Map<string, DomainCertificate | null>;
}

/**
 * The rules for apps: who may deploy, change and delete them (another
 * team's tenant answers as missing; deploying a new app and changing one
 * are separate permissions), the plan's maxApps, expectedGeneration, how
 * env and secrets are merged, and what each call answers. Every write is
 * one store transaction that reads the app row once and writes it once.
 */
export class AppService {
  constructor(private readonly ctx: ServiceContext) {}

  private get store() {
    return this.ctx.options.store;
  }
  private get access() {
    return this.ctx.options.access;
  }

  private async load(tenant: string, name: string): Promise<AppRecord> {
    const app = await this.store.getApp(tenant, name);
    if (!app || app.deleting) {
      throw new NotFoundError(`App ${tenant}/${name} not found`);
    }
    return app;
  }

  private async readable(credentials: BackstageCredentials, tenant: string) {
    await this.access.require(credentials, tenantReadPermission, tenant);
  }

  // -------------------------------------------------------------- reads

  /** The apps of every tenant the caller may read: one query, the filter in it. */
  async list(
    credentials: BackstageCredentials,
    page: PageOptions = {},
  ): Promise<Page<AppView>> {
    const filter = await this.access.readFilter(credentials);
    return this.page({ filter }, page);
  }

  async listInTenant(
    credentials: BackstageCredentials,
    tenant: string,
    page: PageOptions = {},
  ): Promise<Page<AppView>> {
    await this.readable(credentials, tenant);
    return this.page({ tenant }, page);
  }

  /** All of them, or with `limit` a page by tenant and name. */
  private async page(
    options: ListAppsOptions,
    { limit, cursor }: PageOptions,
  ): Promise<Page<AppView>> {
    const apps = await this.store.listApps({
      ...options,
      after: cursor === undefined ? undefined : parseAppCursor(cursor),
      // One more than asked: whether there is a next page.
      limit: limit === undefined ? undefined : limit + 1,
    });
    const items = apps.slice(0, limit).map(app => appView(app, this.ctx.views));
    const last = apps[items.length - 1];
    return {
      items,
      ...(limit !== undefined && apps.length > limit
        ? { nextCursor: appCursor(last) }
        : {}),
    };
  }

  async get(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
  ): Promise<AppView> {
    await this.readable(credentials, tenant);
    return appView(await this.load(tenant, name), this.ctx.views);
  }

  /**
   * The app and its entity tag; when the caller's tag (`unless`) still
   * matches, waits up to `waitMs` for the app to change before answering
   * (a long poll: the answer comes at the change, not at a polling
   * interval). The same tag back means nothing changed in that time.
   * Permission is checked at every read, so access taken away ends a wait.
   */
  async getWhenChanged(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    options: { unless?: string; waitMs: number; signal?: AbortSignal },
  ): Promise<{ app: AppView; etag: string }> {
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      // Taken before the read, so a change during the read is not missed.
      const wait = this.ctx.options.appChanges.next(
        tenant,
        name,
        deadline - Date.now(),
        options.signal,
      );
      const app = await this.get(credentials, tenant, name).catch(error => {
        wait.cancel();
        throw error;
      });
      const etag = entityTag(app);
      if (
        etag !== options.unless ||
        Date.now() >= deadline ||
        options.signal?.aborted
      ) {
        wait.cancel();
        return { app, etag };
      }
      await wait.changed;
    }
  }

  async revisions(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
  ): Promise<RevisionView[]> {
    await this.readable(credentials, tenant);
    await this.load(tenant, name);
    const revisions = await this.store.listRevisions(tenant, name);
    return revisions.map(r => revisionView(r, this.ctx.views));
  }

  // ------------------------------------------------------------- writes

  async deploy(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    body: Parsed<typeof deployAppRequestSchema>,
  ): Promise<AppWriteResult> {
    const env = splitEnv(body.env ?? [], name);
    return this.write(credentials, tenant, name, {
      action: 'deploy',
      mustExist: false,
      expectedGeneration: body.expectedGeneration,
      secrets: env.secrets,
      keepSecrets: current => keptSecrets(env.masked, current),
      spec: current =>
        validSpec({
          image: body.image,
          port: body.port,
          env: env.spec,
          scaling: body.scaling,
          resources: body.resources,
          // Left out: the domains (and their certificates) stay as they are.
          domains: body.domains ?? current?.spec.domains,
          paused: body.paused,
        }),
    });
  }

  async patchEnv(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    body: Parsed<typeof patchEnvRequestSchema>,
  ): Promise<AppWriteResult> {
    const set = splitEnv(body.set ?? [], name);
    const remove = new Set(body.remove ?? []);
    return this.write(credentials, tenant, name, {
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
        for (const masked of set.masked) {
          if (
            !current!.spec.env.some(e => e.name === masked && e.secretKeyRef)
          ) {
            throw new InputError(
              `Invalid env patch: ${masked} has the mask "${SECRET_MASK}" as value but no saved secret; send the real value`,
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
  }

  async setPaused(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    paused: boolean,
    body: Parsed<typeof emptyRequestSchema>,
  ): Promise<AppWriteResult> {
    return this.write(credentials, tenant, name, {
      action: paused ? 'pause' : 'resume',
      mustExist: true,
      expectedGeneration: body?.expectedGeneration,
      keepSecrets: keepAllSecrets,
      spec: current => ({ ...current!.spec, paused }),
    });
  }

  async redeploy(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    body: Parsed<typeof emptyRequestSchema>,
  ): Promise<AppWriteResult> {
    return this.write(credentials, tenant, name, {
      action: 'redeploy',
      mustExist: true,
      redeploy: true,
      expectedGeneration: body?.expectedGeneration,
      keepSecrets: keepAllSecrets,
      spec: current => current!.spec,
    });
  }

  async rollback(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    body: Parsed<typeof rollbackRequestSchema>,
  ): Promise<AppWriteResult> {
    const target = await this.store.getRevision(tenant, name, body.revision);
    return this.write(credentials, tenant, name, {
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
  }

  async delete(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    expectedGeneration: number | undefined,
  ): Promise<{ tenant: string; name: string; deleting: true }> {
    await this.access.require(credentials, appDeletePermission, tenant);
    await this.load(tenant, name);
    await this.store.markAppDeleting(tenant, name, actorOf(credentials), {
      expectedGeneration,
    });
    this.ctx.options.appChanges.notify(tenant, name);
    await this.ctx.settle(this.ctx.options.sync.syncApp(tenant, name));
    return { tenant, name, deleting: true };
  }

  /**
   * The one write path. Checks, in this order: the tenant is readable
   * (another team's answers as missing, whether or not the app exists);
   * then, with the app row as locked, the permission to change it (or, for
   * a new one, to deploy it), that it exists where it must, the secrets sent
   * masked, expectedGeneration, maxApps, the spec. All three permissions
   * are decided before the transaction (one call to the policy, so no lock
   * is held while it answers) and evaluated in it against the tenant row it
   * locked: the request reads that row once.
   */
  async write(
    credentials: BackstageCredentials,
    tenantName: string,
    name: string,
    plan: WritePlan,
  ): Promise<AppWriteResult> {
    const decisions = await this.access.decisionsOn(
      credentials,
      [tenantReadPermission, appUpdatePermission, appDeployPermission],
      tenantName,
    );
    let may: { tenant: TenantRecord; update: boolean; deploy: boolean };
    const written = await this.store.writeApp({
      tenant: tenantName,
      name,
      authorizeTenant: locked => {
        const [read, update, deploy] = decisions(locked);
        if (!read) throw tenantNotFound(tenantName);
        may = { tenant: locked, update, deploy };
      },
      authorize: current => {
        const { tenant, update, deploy } = may;
        if (!(current ? update : deploy)) {
          throw this.access.refusal(
            current ? appUpdatePermission : appDeployPermission,
            tenant,
          );
        }
        if (plan.mustExist && !current) {
          throw new NotFoundError(`App ${tenantName}/${name} not found`);
        }
      },
      spec: plan.spec,
      secrets: plan.secrets,
      keepSecrets: plan.keepSecrets,
      action: plan.action,
      actor: actorOf(credentials),
      expectedGeneration: plan.expectedGeneration,
      maxApps: locked =>
        effectiveLimits(this.ctx.planNamed(locked.plan), locked.limits).maxApps,
      redeploy: plan.redeploy,
      detail: plan.detail,
      certificates: plan.certificates,
    });
    this.ctx.options.appChanges.notify(tenantName, name);
    // Apps this write took a domain from first: their mapping goes first.
    for (const other of written.moved ?? []) {
      await this.ctx.settle(this.ctx.options.sync.syncApp(tenantName, other));
    }
    const sync = await this.ctx.settle(
      this.ctx.options.sync.syncAppWithRow(tenantName, name),
    );
    // The answer describes this write: its spec and revision, with the
    // sync state only while no later write has replaced it. The row as the
    // sync left it is as late as a read now; read only when it is not known.
    const synced = sync?.row ?? (await this.store.getApp(tenantName, name));
    const { created, moved: _moved, ...app } = written;
    return {
      created,
      app: appView(
        synced && synced.generation === app.generation ? synced : app,
        this.ctx.views,
      ),
    };
  }
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

/** An app page's cursor: the last app's tenant and name. */
function appCursor(app: { tenant: string; name: string }): string {
  return encodeCursor([app.tenant, app.name]);
}

function parseAppCursor(cursor: string): { tenant: string; name: string } {
  const [tenant, name] = decodeCursor(cursor, 2);
  return { tenant, name };
}
