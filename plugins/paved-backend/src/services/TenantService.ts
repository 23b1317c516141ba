import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ConflictError, NotAllowedError } from '@backstage/errors';
import {
  TenantView,
  effectiveLimits,
  tenantCreatePermission,
  tenantDeletePermission,
  tenantReadPermission,
  tenantUpdatePermission,
} from '@paved/plugin-paved-common';
import type { TenantRecord } from '../database/PavedStore';
import {
  tenantIsolationDisablePermission,
  tenantLimitsOverridePermission,
  tenantPlanChangePermission,
} from '@paved/plugin-paved-node';
import type {
  createTenantRequestSchema,
  updateTenantRequestSchema,
} from '@paved/plugin-paved-common';
import { tenantView } from '../service/views';
import { Parsed, ServiceContext, actorOf } from './context';

/**
 * The rules for tenants: who may create, read, change and delete one, what
 * only the platform team may change (limits, isolation off, plans), the
 * plan's maxApps against the apps it has, and what each call answers.
 */
export class TenantService {
  constructor(private readonly ctx: ServiceContext) {}

  private get store() {
    return this.ctx.options.store;
  }
  private get access() {
    return this.ctx.options.access;
  }

  private async view(tenant: TenantRecord): Promise<TenantView> {
    return tenantView(
      tenant,
      await this.store.countApps(tenant.name),
      this.ctx.views,
    );
  }

  private requireLimitsOverride(credentials: BackstageCredentials) {
    return this.access.requireBasic(
      credentials,
      tenantLimitsOverridePermission,
      'Overriding plan limits is for the platform team (permission paved.tenant.limits.override); choose a bigger plan instead, or ask them',
    );
  }
  private requireIsolationDisable(credentials: BackstageCredentials) {
    return this.access.requireBasic(
      credentials,
      tenantIsolationDisablePermission,
      'Turning network isolation off is for the platform team (permission paved.tenant.isolation.disable); keep networkIsolation on, or ask them',
    );
  }
  private requirePlanChange(credentials: BackstageCredentials) {
    return this.access.requireBasic(
      credentials,
      tenantPlanChangePermission,
      'Moving a tenant to another plan is for the platform team (permission paved.tenant.plan.change); ask them, or override one limit if you are one of them',
    );
  }

  /** The tenants the caller may read, with their app counts (two queries). */
  async list(credentials: BackstageCredentials): Promise<TenantView[]> {
    const filter = await this.access.readFilter(credentials);
    const tenants = await this.store.listTenants({ filter });
    const counts = await this.store.appCounts(tenants.map(t => t.name));
    return tenants.map(t =>
      tenantView(t, counts.get(t.name) ?? 0, this.ctx.views),
    );
  }

  async get(credentials: BackstageCredentials, name: string) {
    const tenant = await this.access.require(
      credentials,
      tenantReadPermission,
      name,
    );
    return this.view(tenant);
  }

  async create(
    credentials: BackstageCredentials,
    body: Parsed<typeof createTenantRequestSchema>,
  ): Promise<TenantView> {
    this.ctx.planNamed(body.plan);
    await this.access.requireBasic(credentials, tenantCreatePermission);
    if (body.limits !== undefined)
      await this.requireLimitsOverride(credentials);
    if (body.networkIsolation === false) {
      await this.requireIsolationDisable(credentials);
    }
    // Only create tenants you could then manage: otherwise a typo in the
    // owner leaves a tenant nobody (but an admin) can reach.
    const candidate: TenantRecord = {
      ...body,
      uid: '',
      generation: 0,
      appliedGeneration: 0,
      deleting: false,
      createdBy: '',
      createdAt: '',
      updatedAt: '',
    };
    if (
      !(await this.access.allowed(
        credentials,
        tenantUpdatePermission,
        candidate,
      ))
    ) {
      throw new NotAllowedError(
        `You may not create a tenant owned by ${body.owner}: you are not a member of it; choose a group you belong to`,
      );
    }
    const tenant = await this.store.createTenant(
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
    await this.ctx.settle(this.ctx.options.sync.syncTenant(tenant.name));
    return this.view((await this.store.getTenant(tenant.name)) ?? tenant);
  }

  async update(
    credentials: BackstageCredentials,
    name: string,
    body: Parsed<typeof updateTenantRequestSchema>,
  ): Promise<TenantView> {
    const current = await this.access.require(
      credentials,
      tenantUpdatePermission,
      name,
    );
    if (body.limits !== undefined)
      await this.requireLimitsOverride(credentials);
    if (body.networkIsolation === false && current.networkIsolation) {
      await this.requireIsolationDisable(credentials);
    }
    if (body.plan !== undefined) {
      this.ctx.planNamed(body.plan);
      if (body.plan !== current.plan) await this.requirePlanChange(credentials);
    }
    const tenant = await this.store.updateTenant(
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
          const plan = this.ctx.planNamed(next.plan);
          const limits = effectiveLimits(plan, next.limits);
          if (apps > limits.maxApps) {
            throw new ConflictError(
              `Tenant ${name} has ${apps} apps, more than the ${limits.maxApps} that plan "${plan.name}" allows; delete apps first or choose a bigger plan`,
            );
          }
        },
      },
    );
    await this.ctx.settle(this.ctx.options.sync.syncTenant(name));
    const synced = await this.store.getTenant(name);
    return this.view(
      synced && synced.generation === tenant.generation ? synced : tenant,
    );
  }

  async delete(
    credentials: BackstageCredentials,
    name: string,
    expectedGeneration: number | undefined,
  ): Promise<{ name: string; deleting: true }> {
    await this.access.require(credentials, tenantDeletePermission, name);
    await this.store.markTenantDeleting(name, actorOf(credentials), {
      expectedGeneration,
    });
    await this.ctx.settle(this.ctx.options.sync.syncTenant(name));
    return { name, deleting: true };
  }
}
