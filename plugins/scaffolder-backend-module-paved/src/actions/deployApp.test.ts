import yaml from 'yaml';
import { createPavedAppDeployAction } from './deployApp';
import { examples } from './deployApp.examples';
import {
  actionContext,
  ActionTestBackend,
  ALICE,
  BOB,
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
      wait: { pollIntervalMs: 100 },
    });

  const input = (overrides: Record<string, unknown> = {}) => ({
    tenant: 'team-a',
    name: 'web',
    image: 'ghcr.io/acme/web:1.0',
    port: 8080,
    env: [
      { name: 'TARGET', value: 'Paved' },
      { name: 'API_KEY', value: 's3cret', secret: true },
    ],
    minInstances: 0,
    maxInstances: 3,
    waitForReady: false,
    timeoutSeconds: 5,
    ...overrides,
  });

  it('creates the app, then updates it, and outputs the revision and entity ref', async () => {
    const first = actionContext(input());
    await action().handler(first.ctx);
    expect(first.ctx.output).toHaveBeenCalledWith('revision', 1);
    expect(first.ctx.output).toHaveBeenCalledWith(
      'entityRef',
      'component:default/team-a-web',
    );
    expect(first.ctx.output).toHaveBeenCalledWith('appRef', 'team-a/web');

    const second = actionContext(input({ image: 'ghcr.io/acme/web:1.1' }));
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
    const { ctx, checkpoints } = actionContext(input({ name: 'retry' }));
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
    const { ctx } = actionContext(input({ name: 'intruder' }));
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
    });
    await action().handler(ctx);
    expect(log.join('\n')).toMatch(
      /Dry run: would create team-a\/dry with image ghcr.io\/acme\/web:1.0 on port 8080 in namespace tenant-team-a/,
    );
    await expect(env.client(ALICE).getApp('team-a', 'dry')).rejects.toThrow();
  });

  it('while waiting, logs progress and times out with the last state when the cluster never accepts', async () => {
    const { ctx, log } = actionContext(
      input({ name: 'waits', waitForReady: true, timeoutSeconds: 1 }),
    );
    await expect(action().handler(ctx)).rejects.toThrow(
      /team-a\/waits was not Ready after 1s; last state: waiting for the cluster to accept revision 1/,
    );
    expect(log.join('\n')).toMatch(
      /team-a\/waits: waiting for the cluster to accept revision 1/,
    );
  });

  it('runs its examples (without waiting: no cluster here)', async () => {
    for (const example of examples) {
      const step = yaml.parse(example.example).steps[0];
      const { ctx } = actionContext({
        ...input(),
        ...step.input,
        waitForReady: false,
      });
      await action().handler(ctx);
      expect(ctx.output).toHaveBeenCalledWith(
        'appRef',
        `team-a/${step.input.name}`,
      );
    }
  });
});
