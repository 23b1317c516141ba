/**
 * The whole path a template run takes, for templates.test.ts and
 * bench/templateToUrl.ts: the real Scaffolder backend with Paved's actions,
 * the real catalog (which loads templates/), the Paved backend (SQLite in
 * memory, Paved's policy), and the operator in-process, against a test
 * cluster — with a real data plane, so a deployed app's URL answers.
 */
import fs from 'fs';
import path from 'path';
import request from 'supertest';
import {
  coreServices,
  createBackendModule,
  DatabaseService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import catalogBackend from '@backstage/plugin-catalog-backend';
import catalogModuleScaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import scaffolderBackend from '@backstage/plugin-scaffolder-backend';
import pavedBackend from '@paved/plugin-paved-backend';
import catalogModulePavedEntityProvider from '@paved/plugin-catalog-backend-module-paved';
import {
  ALICE,
  groupUserInfoFactory,
  localPolicyPermissionsFactory,
} from '@paved/plugin-paved-backend/testUtils';
import {
  DataPlaneOptions,
  eventually,
  QUICK_DATA_PLANE,
  TestCluster,
} from '@paved/test-cluster';
import { Operator } from '@paved/operator';
import { scaffolderModulePaved } from '../module';

export {
  ALICE,
  BOB,
  SecretBox,
  TEAM_A,
} from '@paved/plugin-paved-backend/testUtils';

/**
 * The data plane the template test and bench run on: idle apps scale to
 * zero within seconds (so runs do not crowd the one 2-core node), and an
 * image that cannot be pulled fails its revision after 60 s instead of
 * Knative's 600 s (the template waits 300 s at most).
 */
export const TEMPLATE_DATA_PLANE: DataPlaneOptions = QUICK_DATA_PLANE;

/** The templates the stack's catalog loads, by folder under templates/. */
export const TEMPLATES = ['create-tenant', 'deploy-image'] as const;

/** A finished Scaffolder task, as its API reports it. */
export interface TemplateRun {
  id: string;
  task: { status: string; [key: string]: unknown };
  /** Every event's message, one a line: what the task page shows. */
  log: string;
  /** The template's output (links, text) from the completion event. */
  output: { links?: Array<Record<string, string>>; [key: string]: unknown };
  /** Submit (POST /v2/tasks) → the task seen finished, in ms. */
  durationMs: number;
  /** When the task was submitted (Date.now()). */
  submittedAt: number;
}

/** A knex client (the type of a plugin's database client). */
export type DatabaseClient = Awaited<ReturnType<DatabaseService['getClient']>>;

/**
 * Hands out the database client of a plugin, from a module of that plugin:
 * the same client the plugin uses (the database manager keeps one per
 * plugin), so a test can look at what the plugin stored.
 */
function databaseProbe(pluginId: string, found: (db: DatabaseClient) => void) {
  return createBackendModule({
    pluginId,
    moduleId: 'test-database-probe',
    register(env) {
      env.registerInit({
        deps: { database: coreServices.database },
        async init({ database }) {
          found(await database.getClient());
        },
      });
    },
  });
}

export interface TemplateStack {
  /** supertest against the backend: /api/catalog, /api/scaffolder, /api/paved. */
  api: ReturnType<typeof request>;
  /** The Scaffolder's own database (tables tasks, task_events, …). */
  scaffolderDatabase: DatabaseClient;
  /** The Paved backend's database. */
  pavedDatabase: DatabaseClient;
  /** The Authorization header of a user. */
  as(user: string): string;
  /**
   * POSTs a task; resolves with its id and when it was sent. `secrets` go
   * in the request's `secrets`, as the Scaffolder's form sends the values of
   * `ui:field: Secret` fields.
   */
  submit(
    user: string,
    template: string,
    values: object,
    secrets?: Record<string, string>,
  ): Promise<{ id: string; submittedAt: number }>;
  /** Polls a task until it is completed or failed; then reads its log. */
  finish(
    user: string,
    submitted: { id: string; submittedAt: number },
    options?: { timeoutMs?: number; pollMs?: number },
  ): Promise<TemplateRun>;
  /** submit, then finish. */
  runTemplate(
    user: string,
    template: string,
    values: object,
    options?: {
      timeoutMs?: number;
      pollMs?: number;
      secrets?: Record<string, string>;
    },
  ): Promise<TemplateRun>;
  stop(): Promise<void>;
}

function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'templates', 'deploy-image'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('templates/ not found');
  }
}

/**
 * Starts the operator and the backend against `cluster`, and waits until
 * the catalog has loaded the templates. Without a cluster, only the
 * backend: Paved saves what a template deploys and waits for a cluster
 * (an app never gets Ready).
 */
export async function startTemplateStack(
  cluster: TestCluster | undefined,
): Promise<TemplateStack> {
  const operator = cluster
    ? await Operator.create({
        kubeConfig: cluster.kubeConfig,
        concurrency: 4,
        pollMs: 200,
      })
    : undefined;
  let scaffolderDatabase: DatabaseClient | undefined;
  let pavedDatabase: DatabaseClient | undefined;
  let backend: Awaited<ReturnType<typeof startTestBackend>> | undefined;
  try {
    await operator?.start();
    const root = repoRoot();
    backend = await startTestBackend({
      features: [
        pavedBackend,
        catalogBackend,
        catalogModuleScaffolderEntityModel,
        catalogModulePavedEntityProvider,
        scaffolderBackend,
        scaffolderModulePaved,
        databaseProbe('scaffolder', db => {
          scaffolderDatabase = db;
        }),
        databaseProbe('paved', db => {
          pavedDatabase = db;
        }),
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
              locations: TEMPLATES.map(t => ({
                type: 'file',
                target: path.join(root, 'templates', t, 'template.yaml'),
              })),
            },
            permission: { enabled: true },
            paved: {
              ...(cluster
                ? { kubernetes: { kubeconfig: cluster.kubeconfigPath } }
                : {}),
              secrets: { encryptionKey: 'test-encryption-key' },
              sync: { frequencySeconds: 1 },
              catalog: { frequencySeconds: 1 },
            },
          },
        }),
      ],
    });
  } catch (error) {
    await backend?.stop();
    await operator?.stop();
    throw error;
  }
  const api = request(backend.server);
  const as = (user: string) => mockCredentials.user.header(user);
  try {
    for (const name of ['paved-create-tenant', 'paved-deploy-image']) {
      await eventually(
        `template ${name} in the catalog`,
        async () =>
          (
            await api
              .get(`/api/catalog/entities/by-name/template/default/${name}`)
              .set('authorization', as(ALICE))
          ).status === 200,
        120_000,
      );
    }
  } catch (error) {
    await backend.stop();
    await operator?.stop();
    throw error;
  }

  const submit: TemplateStack['submit'] = async (
    user,
    template,
    values,
    secrets,
  ) => {
    const submittedAt = Date.now();
    const created = await api
      .post('/api/scaffolder/v2/tasks')
      .set('authorization', as(user))
      .send({
        templateRef: `template:default/${template}`,
        values,
        ...(secrets ? { secrets } : {}),
      });
    if (created.status !== 201) {
      throw new Error(
        `POST /v2/tasks for ${template} answered ${
          created.status
        }: ${JSON.stringify(created.body)}`,
      );
    }
    return { id: created.body.id, submittedAt };
  };

  const finish: TemplateStack['finish'] = async (
    user,
    { id, submittedAt },
    options = {},
  ) => {
    const deadline = Date.now() + (options.timeoutMs ?? 360_000);
    let task: TemplateRun['task'];
    for (;;) {
      const res = await api
        .get(`/api/scaffolder/v2/tasks/${id}`)
        .set('authorization', as(user));
      if (['completed', 'failed', 'cancelled'].includes(res.body?.status)) {
        task = res.body;
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `task ${id} not finished after ${options.timeoutMs ?? 360_000} ms (${
            res.body?.status
          })`,
        );
      }
      await new Promise(r => setTimeout(r, options.pollMs ?? 250));
    }
    const durationMs = Date.now() - submittedAt;
    const events = await api
      .get(`/api/scaffolder/v2/tasks/${id}/events`)
      .set('authorization', as(user));
    const log = (events.body as any[])
      .map(e => e.body?.message ?? '')
      .join('\n');
    const completion = (events.body as any[]).find(
      e => e.type === 'completion',
    );
    return {
      id,
      task,
      log,
      output: completion?.body?.output ?? {},
      durationMs,
      submittedAt,
    };
  };

  const started = backend;
  return {
    api,
    scaffolderDatabase: scaffolderDatabase!,
    pavedDatabase: pavedDatabase!,
    as,
    submit,
    finish,
    runTemplate: async (user, template, values, options) =>
      finish(
        user,
        await submit(user, template, values, options?.secrets),
        options,
      ),
    async stop() {
      await started.stop();
      await operator?.stop();
    },
  };
}
