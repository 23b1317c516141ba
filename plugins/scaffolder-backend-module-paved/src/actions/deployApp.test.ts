import yaml from 'yaml';
import { createPavedAppDeployAction } from './deployApp';
import { examples } from './deployApp.examples';
import {
  actionContext,
  ActionTestBackend,
  ALICE,
  BOB,
  SecretBox,
  startActionTestBackend,
  TEAM_A,
} from '../__testUtils__/actionTestBackend';

jest.setTimeout(60_000);

describe('paved:app:deploy (backend without a cluster)', () => {
  let env: ActionTestBackend;
  beforeAll(async () => {
    env = await startActionTestBackend();
    await env.client(ALICE).createTenant({
      name: 'team-a',
      displayName: 'Team A',
      owner: TEAM_A,
      plan: 'starter',
    });
  });
  afterAll(() => env?.stop());

  const action = (user = ALICE) =>
    createPavedAppDeployAction({
      clients: env.clientsFor(user),
    });

  const input = (overrides: Record<string, unknown> = {}) => ({
    tenant: 'team-a',
    name: 'web',
    image: 'ghcr.io/acme/web:1.0',
    port: 8080,
    env: [{ name: 'TARGET', value: 'Paved' }],
    secretEnv: [{ name: 'API_KEY', secret: 'apiKey' }],
    minInstances: 0,
    maxInstances: 3,
    waitForReady: false,
    timeoutSeconds: 5,
    ...overrides,
  });

  const SECRET = 'sk-live-8d1f4c0e9a7b';
  const secrets = { apiKey: SECRET };

  /** What the backend stored for an app's secret env vars, decrypted. */
  const storedSecrets = async (app: string) => {
    const box = new SecretBox('test-encryption-key');
    const rows = await env
      .knex('paved_app_secrets')
      .where({ tenant: 'team-a', app })
      .select('name', 'ciphertext');
    return Object.fromEntries(
      rows.map(r => [r.name, box.decrypt(r.ciphertext)]),
    );
  };

  it('creates the app, then updates it, and outputs the revision and entity ref', async () => {
    const first = actionContext(input(), { secrets });
    await action().handler(first.ctx);
    expect(first.ctx.output).toHaveBeenCalledWith('revision', 1);
    expect(first.ctx.output).toHaveBeenCalledWith(
      'entityRef',
      'component:default/team-a-web',
    );
    expect(first.ctx.output).toHaveBeenCalledWith('appRef', 'team-a/web');

    const second = actionContext(input({ image: 'ghcr.io/acme/web:1.1' }), {
      secrets,
    });
    await action().handler(second.ctx);
    expect(second.ctx.output).toHaveBeenCalledWith('revision', 2);

    const app = await env.client(ALICE).getApp('team-a', 'web');
    expect(app).toMatchObject({
      image: 'ghcr.io/acme/web:1.1',
      updatedBy: ALICE,
      scaling: { minInstances: 0, maxInstances: 3 },
    });
    expect(app.env).toEqual([
      { name: 'TARGET', value: 'Paved', secret: false },
      { name: 'API_KEY', value: '********', secret: true },
    ]);
  });

  it('fills the defaults for inputs a template leaves unset', async () => {
    const { ctx } = actionContext({
      tenant: 'team-a',
      name: 'minimal',
      image: 'ghcr.io/acme/min:1.0',
      env: undefined,
      port: undefined,
      waitForReady: false,
    });
    await action().handler(ctx);
    const app = await env.client(ALICE).getApp('team-a', 'minimal');
    expect(app).toMatchObject({ port: 8080, env: [] });
    expect(app.scaling).toMatchObject({ minInstances: 0, maxInstances: 10 });
  });

  it('does not deploy twice when the task is retried after the deploy step', async () => {
    const { ctx, checkpoints } = actionContext(input({ name: 'retry' }), {
      secrets,
    });
    await action().handler(ctx);
    expect(checkpoints.size).toBe(1);
    await action().handler(ctx); // same task, checkpoint already stored
    const revisions = await env.client(ALICE).listRevisions('team-a', 'retry');
    expect(revisions.items).toHaveLength(1);
  });

  it('rejects bad input with every problem named, and deploys nothing', async () => {
    const { ctx } = actionContext(
      input({
        name: 'bad',
        image: 'nginx',
        port: 9090,
        env: [{ name: '1X', value: 'v' }],
        cpu: '100 cores',
        minInstances: 5,
        maxInstances: 2,
      }),
    );
    const error = await action()
      .handler(ctx)
      .catch(e => e);
    expect(error.name).toBe('InputError');
    expect(error.message).toMatch(/no tag or digest/);
    expect(error.message).toMatch(/Port 9090 is reserved/);
    expect(error.message).toMatch(/Env var name "1X" is invalid/);
    expect(error.message).toMatch(/CPU "100 cores" is not a CPU quantity/);
    expect(error.message).toMatch(
      /minInstances \(5\) must not be greater than maxInstances \(2\)/,
    );
    await expect(env.client(ALICE).getApp('team-a', 'bad')).rejects.toThrow();
  });

  it('refuses a user who does not own the tenant, and deploys nothing', async () => {
    const { ctx } = actionContext(input({ name: 'intruder' }), { secrets });
    await expect(action(BOB).handler(ctx)).rejects.toThrow(
      /Looking up tenant "team-a" was refused \((403|404)/,
    );
    await expect(
      env.client(ALICE).getApp('team-a', 'intruder'),
    ).rejects.toThrow();
  });

  it('dry run reports what would happen and changes nothing', async () => {
    const { ctx, log } = actionContext(input({ name: 'dry' }), {
      dryRun: true,
      secrets,
    });
    await action().handler(ctx);
    expect(log.join('\n')).toMatch(
      /Dry run: would create team-a\/dry with image ghcr.io\/acme\/web:1.0 on port 8080 in namespace tenant-team-a and secret env var API_KEY \(values from the task's secrets, not logged\)/,
    );
    expect(log.join('\n')).not.toContain(SECRET);
    await expect(env.client(ALICE).getApp('team-a', 'dry')).rejects.toThrow();
  });

  it('while waiting, logs progress and times out with the last state when the cluster never accepts', async () => {
    const { ctx, log } = actionContext(
      input({ name: 'waits', waitForReady: true, timeoutSeconds: 1 }),
      { secrets },
    );
    await expect(action().handler(ctx)).rejects.toThrow(
      /team-a\/waits was not Ready after 1s; last state: waiting for the cluster to accept revision 1/,
    );
    expect(log.join('\n')).toMatch(
      /team-a\/waits: waiting for the cluster to accept revision 1/,
    );
  });

  it("takes secret values from the task's secrets: stored encrypted, masked in the API, never logged", async () => {
    const { ctx, log } = actionContext(
      input({
        name: 'secrets',
        secretEnv: [
          { name: 'API_KEY', secret: 'apiKey' },
          { name: 'DB_PASSWORD', secret: 'dbPassword' },
          // A template's unused slots: no name, skipped.
          { name: '', secret: 'unused1' },
          { secret: 'unused2' },
        ],
      }),
      { secrets: { ...secrets, dbPassword: 'pw-0b9c2e' } },
    );
    await action().handler(ctx);
    const app = await env.client(ALICE).getApp('team-a', 'secrets');
    expect(app.env).toEqual([
      { name: 'TARGET', value: 'Paved', secret: false },
      { name: 'API_KEY', value: '********', secret: true },
      { name: 'DB_PASSWORD', value: '********', secret: true },
    ]);
    expect(await storedSecrets('secrets')).toEqual({
      API_KEY: SECRET,
      DB_PASSWORD: 'pw-0b9c2e',
    });
    expect(log.join('\n')).toMatch(
      /Saved team-a\/secrets revision 1 and secret env vars API_KEY, DB_PASSWORD \(values from the task's secrets, not logged\)/,
    );
    expect(log.join('\n')).not.toContain(SECRET);
    expect(log.join('\n')).not.toContain('pw-0b9c2e');
  });

  it('refuses a secret the task was not given, naming the env var and the secret key, and deploys nothing', async () => {
    const { ctx, log } = actionContext(
      input({
        name: 'nosecret',
        secretEnv: [
          { name: 'API_KEY', secret: 'apiKey' },
          { name: 'OTHER', secret: 'otherKey' },
        ],
      }),
      { secrets },
    );
    const error = await action()
      .handler(ctx)
      .catch(e => e);
    expect(error.name).toBe('InputError');
    expect(error.message).toBe(
      'Secret env var OTHER needs the task secret "otherKey", which this task was not given: the template collects it with a `ui:field: Secret` parameter named otherKey (or the caller passes it in `secrets` of POST /v2/tasks)',
    );
    expect(error.message).not.toContain(SECRET);
    expect(log.join('\n')).not.toContain(SECRET);
    await expect(
      env.client(ALICE).getApp('team-a', 'nosecret'),
    ).rejects.toThrow();
  });

  it("refuses secret values given as plain inputs, and the Scaffolder's own secrets, and deploys nothing", async () => {
    const { ctx } = actionContext(
      input({
        name: 'plain',
        env: [{ name: 'API_KEY', value: 'in-the-task-table', secret: true }],
        secretEnv: [
          { name: 'TOKEN', secret: 'backstageToken' },
          { name: 'CREDS', secret: '__initiatorCredentials' },
          { name: 'TARGET', secret: 'apiKey' },
          { name: 'TARGET', secret: 'apiKey' },
        ],
      }),
      {
        secrets: {
          ...secrets,
          backstageToken: 'the-users-token',
          __initiatorCredentials: '{"token":"the-users-token"}',
        },
      },
    );
    const error = await action()
      .handler(ctx)
      .catch(e => e);
    expect(error.name).toBe('InputError');
    expect(error.message).toMatch(
      /Env var API_KEY is marked secret but its value came as a plain input, which the Scaffolder keeps in its task table in plaintext; take it with a `ui:field: Secret` parameter and pass it in secretEnv/,
    );
    expect(error.message).toMatch(
      /Secret env var TOKEN names the task secret "backstageToken", which the Scaffolder sets itself/,
    );
    expect(error.message).toMatch(
      /Secret env var CREDS names the task secret "__initiatorCredentials"/,
    );
    expect(error.message).toMatch(
      /Env var TARGET is given more than once \(env and secretEnv together\)/,
    );
    for (const value of ['in-the-task-table', 'the-users-token', SECRET]) {
      expect(error.message).not.toContain(value);
    }
    await expect(env.client(ALICE).getApp('team-a', 'plain')).rejects.toThrow();
  });

  it('runs its examples (without waiting: no cluster here)', async () => {
    for (const example of examples) {
      const step = yaml.parse(example.example).steps[0];
      const { ctx } = actionContext(
        { ...input(), ...step.input, waitForReady: false },
        { secrets: { ...secrets, databaseUrl: 'postgres://u:p@db/api' } },
      );
      await action().handler(ctx);
      expect(ctx.output).toHaveBeenCalledWith(
        'appRef',
        `team-a/${step.input.name}`,
      );
    }
  });
});
