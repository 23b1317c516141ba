/**
 * The real backend for the component tests: the Paved backend plugin
 * (`startPavedBackend`, Paved's policy decided in-process) on SQLite, its
 * REST API reached by the real `PavedApiClient` over Node's fetch, and, when
 * the test needs what only a cluster says (phase, URL, instances, usage), a
 * real kube-apiserver from `@paved/test-cluster` whose Tenant and App
 * status the test writes as the operator would (no operator runs here).
 */
import {
  ALICE,
  PavedTestBackend,
  startFinalizerStandIn,
  startPavedBackend,
} from '@paved/plugin-paved-backend/testUtils';
import {
  APP_CONTAINER,
  PavedApiClient,
  SYSTEM_CONTAINER,
} from '@paved/plugin-paved-common';
import { createPavedUiClient } from '../api';
import { eventually } from '@paved/test-cluster';
import type { TestCluster } from '@paved/test-cluster';
import {
  KubeClient,
  connectionFromKubeConfigFile,
  isNotFound,
} from '@paved/kube';
import knexFactory, { Knex } from 'knex';

export { ALICE, BOB, TEAM_A } from '@paved/plugin-paved-backend/testUtils';

const APPS = '/apis/paved.dev/v1alpha1/namespaces';
/** The containers of a Knative pod of an app. */
const CONTAINERS = [APP_CONTAINER, SYSTEM_CONTAINER];

/**
 * The operator's side of the contract, done by hand: the tenant namespace
 * and the status of Tenants and Apps (what the real operator writes from
 * the cluster's objects).
 */
export class Operator {
  constructor(private readonly admin?: KubeClient) {}

  private get kube(): KubeClient {
    if (!this.admin) throw new Error('This stack has no cluster');
    return this.admin;
  }

  /** The first thing the operator does for a tenant. */
  async createNamespace(tenant: string) {
    await this.kube.request('POST', '/api/v1/namespaces', {
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `tenant-${tenant}` },
      },
    });
  }

  /** Waits for the backend to apply the Tenant, then writes its status. */
  async writeTenantStatus(tenant: string, status: Record<string, unknown>) {
    const path = `/apis/paved.dev/v1alpha1/tenants/${tenant}`;
    const cr: any = await eventually(`Tenant ${tenant} applied`, () =>
      this.get(path),
    );
    await this.patchStatus(path, {
      ...status,
      observedGeneration: cr.metadata.generation,
    });
  }

  /**
   * Waits for the backend to apply the App at its current generation
   * (`paved.dev/backend-generation` at least `backendGeneration`), then
   * writes its status as observed for that spec.
   */
  async writeAppStatus(
    tenant: string,
    app: string,
    status: Record<string, unknown>,
    backendGeneration = 1,
  ) {
    const path = `${APPS}/tenant-${tenant}/apps/${app}`;
    const cr: any = await eventually(
      `App ${tenant}/${app} applied`,
      async () => {
        const found: any = await this.get(path);
        const applied = Number(
          found?.metadata.annotations?.['paved.dev/backend-generation'],
        );
        return applied >= backendGeneration && found;
      },
    );
    await this.patchStatus(path, {
      ...status,
      observedGeneration: cr.metadata.generation,
    });
  }

  /** The App CR's spec, once `check` holds for it. */
  async appSpecWhen(
    tenant: string,
    app: string,
    what: string,
    check: (spec: any) => boolean,
  ) {
    const path = `${APPS}/tenant-${tenant}/apps/${app}`;
    return eventually(what, async () => {
      const found: any = await this.get(path);
      return found && check(found.spec) && found.spec;
    });
  }

  /**
   * What Knative and the kubelet would make of a revision: a pod of the
   * app (Knative's labels) whose app container (as the operator names it)
   * and Knative's queue-proxy run. No node runs it, so their logs cannot be
   * read; the backend says so.
   */
  async startInstance(
    tenant: string,
    app: string,
    revision: string,
    pod: string,
  ) {
    const path = `/api/v1/namespaces/tenant-${tenant}/pods`;
    await this.kube.request('POST', path, {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: pod,
          labels: {
            'serving.knative.dev/service': app,
            'serving.knative.dev/revision': revision,
          },
        },
        spec: {
          containers: CONTAINERS.map(name => ({
            name,
            image: 'example/hello:1',
          })),
        },
      },
    });
    await this.patchStatus(`${path}/${pod}`, {
      phase: 'Running',
      containerStatuses: CONTAINERS.map(name => ({
        name,
        image: 'example/hello:1',
        imageID: '',
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: new Date().toISOString() } },
      })),
    });
  }

  /** The pod is gone (scaled down). */
  async stopInstance(tenant: string, pod: string) {
    await this.kube.request(
      'DELETE',
      `/api/v1/namespaces/tenant-${tenant}/pods/${pod}?gracePeriodSeconds=0`,
    );
  }

  private async get(path: string): Promise<unknown> {
    try {
      return await this.kube.request('GET', path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async patchStatus(path: string, status: Record<string, unknown>) {
    await this.kube.request('PATCH', `${path}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  }
}

export interface PavedStack {
  backend: PavedTestBackend;
  /** The real client, acting as `user`, saying no client (the audit's `via` is `api`). */
  client(user?: string): PavedApiClient;
  /** The client exactly as the plugin's API makes it (`via` is `ui`), acting as `user`. */
  uiClient(user?: string): PavedApiClient;
  /** What the operator would do; throws without a cluster. */
  operator: Operator;
  stop(): Promise<void>;
}

/** A new, empty SQLite database in memory. */
export function inMemoryDatabase(): Knex {
  return knexFactory({
    client: 'better-sqlite3',
    connection: ':memory:',
    useNullAsDefault: true,
  });
}

/**
 * Starts the Paved backend on a fresh in-memory SQLite database, on the
 * cluster when one is given (the sync job every second), else with no
 * cluster (status unknown).
 */
export async function startPavedStack(
  options: {
    cluster?: TestCluster;
    /** paved.* config on top of the test backend's defaults. */
    paved?: Record<string, unknown>;
    /** The database; by default a new in-memory SQLite one, closed by stop(). */
    knex?: Knex;
  } = {},
): Promise<PavedStack> {
  const knex = options.knex ?? inMemoryDatabase();
  const backend = await startPavedBackend({
    knex,
    config: {
      paved: {
        ...(options.cluster
          ? { kubernetes: { kubeconfig: options.cluster.kubeconfigPath } }
          : {}),
        ...options.paved,
      },
    },
  });
  const { port } = backend.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}/api/paved`;
  const admin = options.cluster
    ? await KubeClient.fromKubeConfig(
        connectionFromKubeConfigFile(options.cluster.kubeconfigPath),
      )
    : undefined;
  // The mock token of Backstage's test auth, as the app's fetchApi would
  // send the signed-in user's.
  const token = (user: string) => backend.as(user).replace(/^Bearer /, '');
  // No operator runs here: deleted Tenants and Apps lose its finalizer.
  const finalizers = admin ? await startFinalizerStandIn(admin) : undefined;
  return {
    backend,
    client: (user = ALICE) =>
      new PavedApiClient({ baseUrl, token: token(user) }),
    uiClient: (user = ALICE) =>
      createPavedUiClient({ baseUrl, token: token(user) }),
    operator: new Operator(admin),
    stop: async () => {
      await finalizers?.stop();
      await backend.stop();
      if (!options.knex) await knex.destroy();
    },
  };
}
