/**
 * The templates in templates/ run through the real Scaffolder backend, with
 * the real catalog (which loads them), the Paved backend, the operator and a
 * real control plane whose Knative status is written by the Knative status
 * simulator (no Knative controller can run here without a kubelet).
 */
import fs from 'fs';
import path from 'path';
import request from 'supertest';
import * as k8s from '@kubernetes/client-node';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import catalogBackend from '@backstage/plugin-catalog-backend';
import catalogModuleScaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import scaffolderBackend from '@backstage/plugin-scaffolder-backend';
import pavedBackend, {
  catalogModulePavedEntityProvider,
} from '@paved/plugin-paved-backend';
import {
  ALICE,
  BOB,
  TEAM_A,
  groupUserInfoFactory,
  localPolicyPermissionsFactory,
} from '@paved/plugin-paved-backend/testUtils';
import {
  eventually,
  KnativeStatusSimulator,
  useTestCluster,
} from '@paved/test-cluster';
import { Operator } from '@paved/operator';
import { scaffolderModulePaved } from './module';

jest.setTimeout(300_000);

function repoRoot(): string {
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'templates'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('templates/ not found');
  }
}

describe('templates through the real Scaffolder', () => {
  const cluster = useTestCluster();
  let simulator: KnativeStatusSimulator;
  let operator: Operator;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let api: ReturnType<typeof request>;
  let custom: k8s.CustomObjectsApi;

  beforeAll(async () => {
    const { kubeConfig, kubeconfigPath } = cluster();
    custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    simulator = new KnativeStatusSimulator({ kubeConfig });
    await simulator.start();
    operator = await Operator.create({
      kubeConfig,
      concurrency: 4,
      pollMs: 200,
    });
    await operator.start();
    const root = repoRoot();
    backend = await startTestBackend({
      features: [
        pavedBackend,
        catalogBackend,
        catalogModuleScaffolderEntityModel,
        catalogModulePavedEntityProvider,
        scaffolderBackend,
        scaffolderModulePaved,
        localPolicyPermissionsFactory,
        groupUserInfoFactory,
        schedulerServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: {
              baseUrl: 'http://localhost:7007',
              database: { client: 'better-sqlite3', connection: ':memory:' },
            },
            catalog: {
              processingInterval: { seconds: 1 },
              rules: [{ allow: ['Component', 'Template', 'Location'] }],
              locations: ['create-tenant', 'deploy-image'].map(t => ({
                type: 'file',
                target: path.join(root, 'templates', t, 'template.yaml'),
              })),
            },
            permission: { enabled: true },
            paved: {
              kubernetes: { kubeconfig: kubeconfigPath },
              secrets: { encryptionKey: 'test-encryption-key' },
              sync: { frequencySeconds: 1 },
              catalog: { frequencySeconds: 1 },
            },
          },
        }),
      ],
    });
    const client = request(backend.server);
    api = client;
    for (const name of ['paved-create-tenant', 'paved-deploy-image']) {
      await eventually(`template ${name} in the catalog`, async () => {
        const res = await client
          .get(`/api/catalog/entities/by-name/template/default/${name}`)
          .set('authorization', mockCredentials.user.header(ALICE));
        return res.status === 200;
      });
    }
  });

  afterAll(async () => {
    await backend?.stop();
    await operator?.stop();
    await simulator?.stop();
  });

  /** Runs a template as `user`; resolves with the finished task and its log. */
  async function runTemplate(user: string, template: string, values: object) {
    const started = Date.now();
    const created = await api
      .post('/api/scaffolder/v2/tasks')
      .set('authorization', mockCredentials.user.header(user))
      .send({ templateRef: `template:default/${template}`, values });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const task = await eventually(`task ${id}`, async () => {
      const res = await api
        .get(`/api/scaffolder/v2/tasks/${id}`)
        .set('authorization', mockCredentials.user.header(user));
      return ['completed', 'failed'].includes(res.body.status) && res.body;
    });
    const events = await api
      .get(`/api/scaffolder/v2/tasks/${id}/events`)
      .set('authorization', mockCredentials.user.header(user));
    const log = events.body.map((e: any) => e.body?.message ?? '').join('\n');
    const completion = events.body.find((e: any) => e.type === 'completion');
    // eslint-disable-next-line no-console
    console.log(
      `${template} as ${user}: ${task.status} in ${Date.now() - started} ms`,
    );
    return { task, log, output: completion?.body?.output ?? {} };
  }

  it('"Create a tenant" creates the row and the Tenant, and the operator makes it Active', async () => {
    const { task, output } = await runTemplate(ALICE, 'paved-create-tenant', {
      name: 'shop',
      displayName: 'Shop',
      owner: TEAM_A,
      plan: 'starter',
    });
    expect(task.status).toBe('completed');
    expect(output.links[0].url).toBe('/paved/tenants/shop');
    const row = await api
      .get('/api/paved/tenants/shop')
      .set('authorization', mockCredentials.user.header(ALICE));
    expect(row.body).toMatchObject({
      owner: TEAM_A,
      plan: 'starter',
      createdBy: ALICE,
    });
    const cr: any = await eventually('Tenant Active', async () => {
      const t: any = await custom.getClusterCustomObject({
        group: 'paved.dev',
        version: 'v1alpha1',
        plural: 'tenants',
        name: 'shop',
      });
      return t.status?.phase === 'Active' && t;
    });
    expect(cr.spec).toMatchObject({ owner: TEAM_A, plan: 'starter' });
  });

  it('"Deploy a container image" waits until Ready and links the URL and the entity', async () => {
    const { task, log, output } = await runTemplate(
      ALICE,
      'paved-deploy-image',
      {
        tenant: 'shop',
        name: 'web',
        image: 'ghcr.io/acme/web:1.0',
        port: 8080,
        env: [{ name: 'TARGET', value: 'Paved' }],
        minInstances: 0,
        maxInstances: 3,
      },
    );
    expect(task.status).toBe('completed');
    expect(log).toMatch(
      /shop\/web is Ready at http:\/\/web\.tenant-shop\.example\.com/,
    );
    expect(output.links).toEqual([
      { title: 'Open the app', url: 'http://web.tenant-shop.example.com' },
      {
        title: 'Open in catalog',
        icon: 'catalog',
        entityRef: 'component:default/shop-web',
      },
    ]);
    const app: any = await custom.getNamespacedCustomObject({
      group: 'paved.dev',
      version: 'v1alpha1',
      namespace: 'tenant-shop',
      plural: 'apps',
      name: 'web',
    });
    expect(app.spec.image).toBe('ghcr.io/acme/web:1.0');
    expect(app.status.phase).toBe('Ready');
    const ksvc: any = await custom.getNamespacedCustomObject({
      group: 'serving.knative.dev',
      version: 'v1',
      namespace: 'tenant-shop',
      plural: 'services',
      name: 'web',
    });
    expect(ksvc.spec.template.spec.containers[0].env).toEqual([
      { name: 'TARGET', value: 'Paved' },
    ]);
  });

  it("fails with a permission error for a user outside the tenant's owner group, and changes nothing", async () => {
    const { task, log } = await runTemplate(BOB, 'paved-deploy-image', {
      tenant: 'shop',
      name: 'intruder',
      image: 'ghcr.io/evil/app:1.0',
      port: 8080,
    });
    expect(task.status).toBe('failed');
    expect(log).toMatch(/Looking up tenant "shop" was refused \((403|404)/);
    const row = await api
      .get('/api/paved/tenants/shop/apps/intruder')
      .set('authorization', mockCredentials.user.header(ALICE));
    expect(row.status).toBe(404);
    await expect(
      custom.getNamespacedCustomObject({
        group: 'paved.dev',
        version: 'v1alpha1',
        namespace: 'tenant-shop',
        plural: 'apps',
        name: 'intruder',
      }),
    ).rejects.toMatchObject({ code: 404 });
  });
});
