/**
 * A secret env value given to "Deploy a container image" goes through the
 * Scaffolder's secrets, not its parameters: after a real task run, no table
 * of the Scaffolder's database holds it, while the Paved backend has it
 * (encrypted; masked in its API). The real Scaffolder, catalog (which loads
 * the template) and Paved backend, with no cluster: Paved saves the app and
 * waits for a cluster, so the task is cancelled once the deploy is saved.
 * templates.test.ts runs the same on a real data plane, to a running app.
 */
import {
  ALICE,
  DatabaseClient,
  SecretBox,
  startTemplateStack,
  TEAM_A,
  TemplateStack,
} from './__testUtils__/templateStack';

jest.setTimeout(120_000);

const SECRET = 'sk-live-6c1e0f93d2a84b7f';

/** Every row of every table, as one string to search. */
async function dumpDatabase(db: DatabaseClient) {
  const tables: Array<{ name: string }> = await db.raw(
    "select name from sqlite_master where type = 'table'",
  );
  const dump: Record<string, unknown[]> = {};
  for (const { name } of tables) dump[name] = await db(name).select();
  return dump;
}

async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

describe('secret env values through the real Scaffolder (no cluster)', () => {
  let stack: TemplateStack;

  beforeAll(async () => {
    stack = await startTemplateStack(undefined);
    await stack.api
      .post('/api/paved/tenants')
      .set('authorization', stack.as(ALICE))
      .send({
        name: 'shop',
        displayName: 'Shop',
        owner: TEAM_A,
        plan: 'starter',
      })
      .expect(201);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const events = async (id: string) =>
    (
      await stack.api
        .get(`/api/scaffolder/v2/tasks/${id}/events`)
        .set('authorization', stack.as(ALICE))
    ).body as any[];

  it('keeps the value out of every Scaffolder table, and the app gets it', async () => {
    const submitted = await stack.submit(
      ALICE,
      'paved-deploy-image',
      {
        tenant: 'shop',
        name: 'web',
        image: 'registry.localhost/paved/hello:1.0.0',
        port: 8080,
        env: [{ name: 'PLAIN_SETTING', value: 'visible' }],
        secretName1: 'API_KEY',
        // What the Secret field leaves in the form values: its mask.
        secretValue1: '*'.repeat(SECRET.length),
      },
      { secretValue1: SECRET },
    );

    // The deploy is saved; the action now waits for a cluster that is not
    // there. The Scaffolder cleared the task's secrets when it claimed it.
    await eventually('the deploy saved', async () =>
      (
        await events(submitted.id)
      ).some(e => /Saved shop\/web revision 1/.test(e.body?.message ?? '')),
    );
    const whileRunning = JSON.stringify(
      await dumpDatabase(stack.scaffolderDatabase),
    );
    expect(whileRunning).toContain(submitted.id);
    expect(whileRunning).not.toContain(SECRET);

    await stack.api
      .post(`/api/scaffolder/v2/tasks/${submitted.id}/cancel`)
      .set('authorization', stack.as(ALICE))
      .expect(200);
    const run = await stack.finish(ALICE, submitted, { timeoutMs: 30_000 });
    expect(['cancelled', 'failed']).toContain(run.task.status);
    expect(run.log).toMatch(
      /Saved shop\/web revision 1 and secret env var API_KEY \(values from the task's secrets, not logged\)/,
    );
    expect(run.log).not.toContain(SECRET);
    expect(JSON.stringify(run.task)).not.toContain(SECRET);

    // Nowhere in the Scaffolder's database: not the task (spec, parameters,
    // secrets, state), not its events, no other table.
    const dump = await dumpDatabase(stack.scaffolderDatabase);
    expect(Object.keys(dump)).toEqual(
      expect.arrayContaining(['tasks', 'task_events']),
    );
    const [task] = await stack
      .scaffolderDatabase('tasks')
      .where({ id: submitted.id });
    expect(task.secrets).toBeNull();
    expect(JSON.parse(task.spec).parameters).toMatchObject({
      secretName1: 'API_KEY',
      secretValue1: '*'.repeat(SECRET.length),
    });
    expect(
      await stack.scaffolderDatabase('task_events').where({
        task_id: submitted.id,
      }),
    ).not.toHaveLength(0);
    expect(JSON.stringify(dump)).not.toContain(SECRET);

    // The app has it: masked in the API, encrypted in Paved's database.
    const app = await stack.api
      .get('/api/paved/tenants/shop/apps/web')
      .set('authorization', stack.as(ALICE))
      .expect(200);
    expect(app.body.env).toEqual([
      { name: 'PLAIN_SETTING', value: 'visible', secret: false },
      { name: 'API_KEY', value: '********', secret: true },
    ]);
    expect(JSON.stringify(app.body)).not.toContain(SECRET);
    expect(
      JSON.stringify(await dumpDatabase(stack.pavedDatabase)),
    ).not.toContain(SECRET);
    const [row] = await stack
      .pavedDatabase('paved_app_secrets')
      .where({ tenant: 'shop', app: 'web', name: 'API_KEY' });
    expect(new SecretBox('test-encryption-key').decrypt(row.ciphertext)).toBe(
      SECRET,
    );
  });

  it('fails the task, naming the missing secret, when a secret env var has a name but no value', async () => {
    const run = await stack.runTemplate(
      ALICE,
      'paved-deploy-image',
      {
        tenant: 'shop',
        name: 'nosecret',
        image: 'registry.localhost/paved/hello:1.0.0',
        port: 8080,
        secretName2: 'DB_PASSWORD',
      },
      { timeoutMs: 30_000 },
    );
    expect(run.task.status).toBe('failed');
    expect(run.log).toMatch(
      /Secret env var DB_PASSWORD needs the task secret "secretValue2", which this task was not given/,
    );
    await stack.api
      .get('/api/paved/tenants/shop/apps/nosecret')
      .set('authorization', stack.as(ALICE))
      .expect(404);
  });
});
