import { AppView, TenantView } from '@paved/plugin-paved-common';
import { PavedApi } from '../api';

/**
 * An in-memory stand-in for the Paved backend, for component tests only:
 * it keeps apps and tenants in maps and applies pause/resume/env/rollback the
 * way the backend does. The browser test runs against the real backend.
 */
export class FakePavedApi implements PavedApi {
  readonly calls: string[] = [];
  readonly apps = new Map<string, AppView>();
  readonly tenants = new Map<string, TenantView>();

  constructor(apps: AppView[] = [], tenants: TenantView[] = []) {
    apps.forEach(a => this.apps.set(a.ref, a));
    tenants.forEach(t => this.tenants.set(t.name, t));
  }

  private app(tenant: string, name: string): AppView {
    const app = this.apps.get(`${tenant}/${name}`);
    if (!app) throw new Error(`App ${tenant}/${name} not found`);
    return app;
  }

  private update(app: AppView, change: Partial<AppView>): AppView {
    const next = { ...app, ...change, revision: app.revision + 1 };
    this.apps.set(app.ref, next);
    return next;
  }

  async listPlans() {
    return {
      items: [
        {
          name: 'free',
          description: 'Free',
          cpu: '1',
          memory: '1Gi',
          maxApps: 3,
        },
      ],
    };
  }
  async listTenants() {
    return { items: [...this.tenants.values()] };
  }
  async getTenant(name: string) {
    const tenant = this.tenants.get(name);
    if (!tenant) throw new Error(`Tenant ${name} not found`);
    return tenant;
  }
  async listApps(tenant?: string) {
    return {
      items: [...this.apps.values()].filter(
        a => !tenant || a.tenant === tenant,
      ),
    };
  }
  async getApp(tenant: string, name: string) {
    return this.app(tenant, name);
  }
  async patchEnv(
    tenant: string,
    name: string,
    body: { set?: any[]; remove?: string[] },
  ) {
    this.calls.push(`patchEnv ${tenant}/${name} ${JSON.stringify(body)}`);
    const app = this.app(tenant, name);
    const env = app.env.filter(e => !body.remove?.includes(e.name));
    for (const entry of body.set ?? []) {
      env.push({
        name: entry.name,
        value: entry.secret ? '********' : entry.value,
        secret: !!entry.secret,
      });
    }
    return this.update(app, { env });
  }
  async pauseApp(tenant: string, name: string) {
    this.calls.push(`pause ${tenant}/${name}`);
    const app = this.app(tenant, name);
    return this.update(app, {
      paused: true,
      status: { ...app.status, phase: 'Paused' },
    });
  }
  async resumeApp(tenant: string, name: string) {
    this.calls.push(`resume ${tenant}/${name}`);
    const app = this.app(tenant, name);
    return this.update(app, {
      paused: false,
      status: { ...app.status, phase: 'Ready' },
    });
  }
  async redeployApp(tenant: string, name: string) {
    this.calls.push(`redeploy ${tenant}/${name}`);
    return this.update(this.app(tenant, name), {});
  }
  async rollbackApp(tenant: string, name: string, revision: number) {
    this.calls.push(`rollback ${tenant}/${name} ${revision}`);
    return this.update(this.app(tenant, name), {});
  }
  async deleteApp(tenant: string, name: string) {
    this.calls.push(`delete ${tenant}/${name}`);
    this.apps.delete(`${tenant}/${name}`);
  }
  async listRevisions(tenant: string, name: string) {
    const app = this.app(tenant, name);
    return {
      items: Array.from({ length: app.revision }, (_, i) => ({
        revision: i + 1,
        action: i === 0 ? 'create' : 'update',
        actor: 'user:default/alice',
        createdAt: '2026-11-21T10:00:00Z',
        image: app.image,
        config: app as any,
      })),
    };
  }
}

export function appView(overrides: Partial<AppView> = {}): AppView {
  return {
    tenant: 'team-a',
    name: 'hello',
    ref: 'team-a/hello',
    namespace: 'tenant-team-a',
    image: 'ghcr.io/acme/hello:1.0',
    port: 8080,
    env: [
      { name: 'TARGET', value: 'Paved', secret: false },
      { name: 'API_KEY', value: '********', secret: true },
    ],
    scaling: { minInstances: 0, maxInstances: 10, targetConcurrency: 100 },
    resources: { cpu: '250m', memory: '256Mi' },
    domains: [],
    paused: false,
    revision: 2,
    createdAt: '2026-11-21T10:00:00Z',
    updatedAt: '2026-11-21T10:05:00Z',
    updatedBy: 'user:default/alice',
    sync: { generation: 2, appliedGeneration: 2, pending: false },
    status: {
      known: true,
      phase: 'Ready',
      url: 'http://hello.tenant-team-a.example.com',
      latestCreatedRevision: 'hello-00002',
      latestReadyRevision: 'hello-00002',
      instances: { desired: 1, ready: 1 },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: 'The app is serving',
          lastTransitionTime: '2026-11-21T10:05:00Z',
        },
      ],
    },
    ...overrides,
  };
}

export function tenantView(overrides: Partial<TenantView> = {}): TenantView {
  return {
    name: 'team-a',
    displayName: 'Team A',
    owner: 'group:default/team-a',
    plan: 'starter',
    effectiveLimits: { cpu: '4', memory: '8Gi', maxApps: 10 },
    networkIsolation: true,
    namespace: 'tenant-team-a',
    appCount: 1,
    createdAt: '2026-11-21T10:00:00Z',
    updatedAt: '2026-11-21T10:00:00Z',
    createdBy: 'user:default/alice',
    sync: { generation: 1, appliedGeneration: 1, pending: false },
    status: {
      known: true,
      phase: 'Active',
      namespace: 'tenant-team-a',
      appCount: 1,
      usage: {
        cpu: { used: '500m', hard: '4' },
        memory: { used: '7Gi', hard: '8Gi' },
      },
    },
    ...overrides,
  };
}
