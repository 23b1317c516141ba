/**
 * The templates in templates/ run through the real Scaffolder backend, with
 * the real catalog (which loads them), the Paved backend and the operator,
 * on a real data plane: a node running real containers, Knative Serving and
 * Traefik. A deployed app's URL answers with its container's own response;
 * an image that is not there fails the task with the kubelet's real pull
 * error, as the operator words it.
 */
import {
  APPS,
  KNATIVE_SERVICES,
  KubeClient,
  SECRETS,
  TENANTS,
} from '@paved/kube';
import {
  eventually,
  EXAMPLE_APP_IMAGE,
  requestThroughIngress,
  useDataPlaneCluster,
} from '@paved/test-cluster';
import {
  ALICE,
  BOB,
  startTemplateStack,
  TEAM_A,
  TEMPLATE_DATA_PLANE,
  TemplateStack,
} from './__testUtils__/templateStack';

// A deploy waits for a real revision; a failed pull takes Knative's
// progress deadline (60 s here) to be reported.
jest.setTimeout(420_000);

describe('templates through the real Scaffolder, on a real data plane', () => {
  // Its beforeAll allows 40 minutes: it may wait for the node lock while
  // other suites' data planes run (one per machine).
  const cluster = useDataPlaneCluster(TEMPLATE_DATA_PLANE);
  let stack: TemplateStack;
  let kube: KubeClient;

  beforeAll(async () => {
    kube = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    stack = await startTemplateStack(cluster());
  }, 180_000);

  afterAll(async () => {
    kube?.close();
    await stack?.stop();
  }, 120_000);

  const runTemplate = async (
    user: string,
    template: string,
    values: object,
    secrets?: Record<string, string>,
  ) => {
    const run = await stack.runTemplate(user, template, values, { secrets });
    // What the task page shows, for failed runs: what a user would read.
    const log =
      run.task.status === 'failed'
        ? `; its log:\n${run.log
            .split('\n')
            .filter(l => !/^\s+at /.test(l))
            .join('\n')}`
        : '';
    // eslint-disable-next-line no-console
    console.log(
      `${template} as ${user}: ${run.task.status} in ${run.durationMs} ms${log}`,
    );
    return run;
  };
  const readApp = (name: string): Promise<any> =>
    kube.get(APPS, name, 'tenant-shop');

  it('"Create a tenant" creates the row and the Tenant, and the operator makes it Active', async () => {
    const { task, output } = await runTemplate(ALICE, 'paved-create-tenant', {
      name: 'shop',
      displayName: 'Shop',
      owner: TEAM_A,
      plan: 'starter',
    });
    expect(task.status).toBe('completed');
    expect(output.links![0].url).toBe('/paved/tenants/shop');
    const row = await stack.api
      .get('/api/paved/tenants/shop')
      .set('authorization', stack.as(ALICE));
    expect(row.body).toMatchObject({
      owner: TEAM_A,
      plan: 'starter',
      createdBy: ALICE,
    });
    // The audit log says who, and that it came through a template.
    const audit = await stack.api
      .get('/api/paved/tenants/shop/audit')
      .set('authorization', stack.as(ALICE));
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'tenant.create',
        actor: ALICE,
        via: 'template',
      }),
    ]);
    const cr: any = await eventually('Tenant Active', async () => {
      const t: any = await kube.get(TENANTS, 'shop');
      return t.status?.phase === 'Active' && t;
    });
    expect(cr.spec).toMatchObject({ owner: TEAM_A, plan: 'starter' });
  });

  it('"Deploy a container image" waits until Ready, and the URL it links answers from the container, which has the secret env value that no Scaffolder table holds', async () => {
    // GREETING is a secret env var: the example app answers "Hello,
    // <GREETING>!", so the answer shows the container got the value.
    const greeting = 'Paved-s3cr3t-5e0d2b';
    const { id, task, log, output } = await runTemplate(
      ALICE,
      'paved-deploy-image',
      {
        tenant: 'shop',
        name: 'web',
        image: EXAMPLE_APP_IMAGE,
        port: 8080,
        env: [{ name: 'PLAIN_SETTING', value: 'visible' }],
        secretName1: 'GREETING',
        // What the form's Secret field leaves in the values: its mask.
        secretValue1: '*'.repeat(greeting.length),
        minInstances: 0,
        maxInstances: 3,
      },
      { secretValue1: greeting },
    );
    expect(task.status).toBe('completed');
    expect(log).toMatch(
      /shop\/web is Ready at http:\/\/web\.tenant-shop\.localhost/,
    );
    expect(output.links).toEqual([
      { title: 'Open the app', url: 'http://web.tenant-shop.localhost' },
      {
        title: 'Open in catalog',
        icon: 'catalog',
        entityRef: 'component:default/shop-web',
      },
    ]);

    // The link the task page shows opens the app: the container answers.
    const answer = await requestThroughIngress(
      cluster().dataPlane!,
      output.links![0].url,
      { timeoutMs: 60_000 },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(new RegExp(`^Hello, ${greeting}!`));
    // Knative's revision, named by Knative, served it.
    expect(answer.body).toContain('K_REVISION=web-00001');

    const app = await readApp('web');
    expect(app.spec.image).toBe(EXAMPLE_APP_IMAGE);
    expect(app.status.phase).toBe('Ready');
    expect(app.status.latestReadyRevision).toBe('web-00001');
    const ksvc: any = await kube.get(KNATIVE_SERVICES, 'web', 'tenant-shop');
    const containerEnv = ksvc.spec.template.spec.containers[0].env;
    expect(containerEnv).toContainEqual({
      name: 'PLAIN_SETTING',
      value: 'visible',
    });
    expect(containerEnv.find((e: any) => e.name === 'GREETING')).toMatchObject({
      valueFrom: { secretKeyRef: { key: 'GREETING' } },
    });
    expect(JSON.stringify(ksvc)).not.toContain(greeting);
    // The value is in the app's Secret, which the backend applied.
    const secret: any = await kube.get(SECRETS, 'web-paved-env', 'tenant-shop');
    expect(Buffer.from(secret.data.GREETING, 'base64').toString()).toBe(
      greeting,
    );

    // Masked in the Paved API; nowhere in the Scaffolder's database (task
    // spec and parameters, its secrets column, its events, any table).
    const row = await stack.api
      .get('/api/paved/tenants/shop/apps/web')
      .set('authorization', stack.as(ALICE));
    expect(row.body.env).toContainEqual({
      name: 'GREETING',
      value: '********',
      secret: true,
    });
    expect(JSON.stringify(row.body)).not.toContain(greeting);
    expect(log).not.toContain(greeting);
    const [taskRow] = await stack.scaffolderDatabase('tasks').where({ id });
    expect(taskRow.secrets).toBeNull();
    const scaffolderTables: Array<{ name: string }> =
      await stack.scaffolderDatabase.raw(
        "select name from sqlite_master where type = 'table'",
      );
    for (const { name } of scaffolderTables) {
      expect(
        JSON.stringify(await stack.scaffolderDatabase(name).select()),
      ).not.toContain(greeting);
    }
  });

  it('"Deploy a container image" of an image that is not there fails the task with the reason the operator gives', async () => {
    const image = 'registry.localhost/acme/missing:1.0.0';
    const { task, log } = await runTemplate(ALICE, 'paved-deploy-image', {
      tenant: 'shop',
      name: 'missing',
      image,
      port: 8080,
      minInstances: 0,
      maxInstances: 1,
    });
    expect(task.status).toBe('failed');
    const reason =
      /The image registry\.localhost\/acme\/missing:1\.0\.0 could not be pulled\. Check the image name and tag/;
    // The step fails with the reason, not a timeout or a generic error…
    expect(log).toMatch(
      new RegExp(`shop/missing failed to become ready: ${reason.source}`),
    );
    expect(log).not.toMatch(/was not Ready after/);
    // …which carries the kubelet's own words about the pull.
    expect(log).toMatch(/ErrImagePull|ImagePullBackOff|failed to pull/i);
    const app = await readApp('missing');
    expect(app.status.phase).toBe('Failed');
    expect(app.status.message).toMatch(reason);
  });

  it("fails with a permission error for a user outside the tenant's owner group, and changes nothing", async () => {
    const { task, log } = await runTemplate(BOB, 'paved-deploy-image', {
      tenant: 'shop',
      name: 'intruder',
      image: 'registry.localhost/evil/app:1.0.0',
      port: 8080,
    });
    expect(task.status).toBe('failed');
    expect(log).toMatch(/Looking up tenant "shop" was refused \((403|404)/);
    const row = await stack.api
      .get('/api/paved/tenants/shop/apps/intruder')
      .set('authorization', stack.as(ALICE));
    expect(row.status).toBe(404);
    await expect(readApp('intruder')).rejects.toMatchObject({ code: 404 });
  });
});
