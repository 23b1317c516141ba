import yaml from 'yaml';
import { createPavedAppDeleteAction } from './deleteApp';
import { createPavedTenantDeleteAction } from './deleteTenant';
import { examples as appExamples } from './deleteApp.examples';
import { examples as tenantExamples } from './deleteTenant.examples';
import {
  actionContext,
  ActionTestBackend,
  ALICE,
  BOB,
  startActionTestBackend,
  TEAM_A,
} from '../__testUtils__/actionTestBackend';

jest.setTimeout(60_000);

describe('paved:app:delete and paved:tenant:delete', () => {
  let env: ActionTestBackend;
  beforeEach(async () => {
    env = await startActionTestBackend();
    const alice = env.client(ALICE);
    await alice.createTenant({
      name: 'team-a',
      displayName: 'Team A',
      owner: TEAM_A,
      plan: 'starter',
    });
    await alice.deployApp('team-a', 'hello', {
      image: 'ghcr.io/acme/hello:1.0',
    });
  });
  afterEach(() => env?.stop());

  const deleteApp = (user = ALICE) =>
    createPavedAppDeleteAction({ clients: env.clientsFor(user) });
  const deleteTenant = (user = ALICE) =>
    createPavedTenantDeleteAction({ clients: env.clientsFor(user) });

  it('deletes an app only when confirm repeats <tenant>/<app>', async () => {
    const wrong = actionContext({
      tenant: 'team-a',
      name: 'hello',
      confirm: 'hello',
    });
    await expect(deleteApp().handler(wrong.ctx)).rejects.toThrow(
      /set confirm to "team-a\/hello"/,
    );
    await expect(
      env.client(ALICE).getApp('team-a', 'hello'),
    ).resolves.toBeDefined();

    const right = actionContext({
      tenant: 'team-a',
      name: 'hello',
      confirm: 'team-a/hello',
    });
    await deleteApp().handler(right.ctx);
    expect(right.ctx.output).toHaveBeenCalledWith('deleted', true);
    const gone = await env
      .client(ALICE)
      .getApp('team-a', 'hello')
      .catch(e => e);
    // Deletion is asynchronous in the cluster; the API either forgets the app
    // at once or shows it Deleting.
    expect(
      gone instanceof Error ? gone.message : gone.status.phase ?? 'Deleting',
    ).toMatch(/not found|Deleting|404/i);
  });

  it('answers another team as if the app did not exist, and keeps it', async () => {
    // The API gives "not yours" the same answer as "not there" (404), so
    // the action cannot tell them apart either: nothing is deleted.
    const { ctx, log } = actionContext({
      tenant: 'team-a',
      name: 'hello',
      confirm: 'team-a/hello',
    });
    await deleteApp(BOB).handler(ctx);
    expect(ctx.output).toHaveBeenCalledWith('deleted', false);
    expect(log.join('\n')).toMatch(
      /team-a\/hello did not exist; nothing to delete/,
    );
    await expect(
      env.client(ALICE).getApp('team-a', 'hello'),
    ).resolves.toMatchObject({ name: 'hello' });
  });

  it('dry run deletes nothing', async () => {
    const { ctx, log } = actionContext(
      { tenant: 'team-a', name: 'hello', confirm: 'team-a/hello' },
      { dryRun: true },
    );
    await deleteApp().handler(ctx);
    expect(log.join('\n')).toMatch(/Dry run: would delete team-a\/hello/);
    await expect(
      env.client(ALICE).getApp('team-a', 'hello'),
    ).resolves.toBeDefined();
  });

  it('deletes a tenant only when confirm repeats its name; dry run reports its apps', async () => {
    await expect(
      deleteTenant().handler(
        actionContext({ name: 'team-a', confirm: 'yes' }).ctx,
      ),
    ).rejects.toThrow(/set confirm to "team-a"/);
    const dry = actionContext(
      { name: 'team-a', confirm: 'team-a' },
      { dryRun: true },
    );
    await deleteTenant().handler(dry.ctx);
    expect(dry.log.join('\n')).toMatch(
      /would delete tenant team-a with its 1 app\(s\) and namespace tenant-team-a/,
    );
    await expect(env.client(ALICE).getTenant('team-a')).resolves.toBeDefined();

    const { ctx } = actionContext({ name: 'team-a', confirm: 'team-a' });
    await deleteTenant().handler(ctx);
    expect(ctx.output).toHaveBeenCalledWith('deleted', true);
  });

  it('runs its examples', async () => {
    const app = yaml.parse(appExamples[0].example).steps[0];
    await deleteApp().handler(actionContext(app.input).ctx);
    const tenant = yaml.parse(tenantExamples[0].example).steps[0];
    const { ctx } = actionContext(tenant.input);
    await deleteTenant().handler(ctx);
    expect(ctx.output).toHaveBeenCalledWith('deleted', true);
  });
});
