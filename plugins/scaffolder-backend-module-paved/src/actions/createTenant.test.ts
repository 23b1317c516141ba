import yaml from 'yaml';
import { createPavedTenantCreateAction } from './createTenant';
import { examples } from './createTenant.examples';
import {
  actionContext,
  ActionTestBackend,
  ALICE,
  BOB,
  startActionTestBackend,
  TEAM_A,
} from '../__testUtils__/actionTestBackend';

jest.setTimeout(60_000);

describe('paved:tenant:create', () => {
  let env: ActionTestBackend;
  beforeAll(async () => {
    env = await startActionTestBackend();
  });
  afterAll(() => env?.stop());

  const action = (user = ALICE) =>
    createPavedTenantCreateAction({ clients: env.clientsFor(user) });

  it('creates a tenant as the initiating user and outputs its namespace', async () => {
    const { ctx, log } = actionContext({
      name: 'shop',
      displayName: 'Shop',
      owner: TEAM_A,
      plan: 'starter',
    });
    await action().handler(ctx);
    expect(ctx.output).toHaveBeenCalledWith('name', 'shop');
    expect(ctx.output).toHaveBeenCalledWith('namespace', 'tenant-shop');
    expect(ctx.output).toHaveBeenCalledWith('created', true);
    expect(log.join('\n')).toMatch(/Created tenant "shop"/);
    const tenant = await env.client(ALICE).getTenant('shop');
    expect(tenant).toMatchObject({
      owner: TEAM_A,
      plan: 'starter',
      createdBy: ALICE,
    });
  });

  it('is idempotent for the same spec and refuses a conflicting one', async () => {
    const input = {
      name: 'twice',
      displayName: 'Twice',
      owner: TEAM_A,
      plan: 'free',
    };
    await action().handler(actionContext(input).ctx);
    const again = actionContext(input);
    await action().handler(again.ctx);
    expect(again.ctx.output).toHaveBeenCalledWith('created', false);
    await expect(
      action().handler(actionContext({ ...input, plan: 'pro' }).ctx),
    ).rejects.toThrow(
      /Tenant "twice" already exists and its plan is free, not pro/,
    );
  });

  it('validates before changing anything, with messages that say what to fix', async () => {
    const { ctx } = actionContext({
      name: 'Bad_Name',
      displayName: ' ',
      owner: 'team-a',
      plan: 'free',
    });
    await expect(action().handler(ctx)).rejects.toThrow(
      /Tenant name "Bad_Name" has uppercase letters.*; Display name is empty; Owner "team-a" is not a group entity ref; write it as "group:default\/team-a"/,
    );
    const names = (await env.client(ALICE).listTenants()).items.map(
      t => t.name,
    );
    expect(names).not.toContain('bad_name');
  });

  it('reports an unknown plan with the known ones, and creates nothing', async () => {
    const { ctx } = actionContext({
      name: 'gold',
      displayName: 'Gold',
      owner: TEAM_A,
      plan: 'gold',
    });
    await expect(action().handler(ctx)).rejects.toThrow(
      /Creating tenant "gold" failed \(400 InputError\):.*free.*starter/,
    );
    await expect(env.client(ALICE).getTenant('gold')).rejects.toThrow(
      /not found|404/i,
    );
  });

  it('dry run validates the plan and reports what would happen, creating nothing', async () => {
    const { ctx, log } = actionContext(
      { name: 'dry', displayName: 'Dry', owner: TEAM_A, plan: 'pro' },
      { dryRun: true },
    );
    await action().handler(ctx);
    expect(log.join('\n')).toMatch(
      /Dry run: would create tenant "dry" \(Dry\) owned by group:default\/team-a on plan pro/,
    );
    await expect(env.client(ALICE).getTenant('dry')).rejects.toThrow();
    const bad = actionContext(
      { name: 'dry2', displayName: 'Dry', owner: TEAM_A, plan: 'gold' },
      { dryRun: true },
    );
    await expect(action().handler(bad.ctx)).rejects.toThrow(
      /Unknown plan "gold"; choose one of free, starter, pro, enterprise/,
    );
  });

  it('refuses to create a tenant for a group the user is not in', async () => {
    const { ctx } = actionContext({
      name: 'steal',
      displayName: 'Steal',
      owner: TEAM_A,
      plan: 'free',
    });
    await expect(action(BOB).handler(ctx)).rejects.toThrow(
      /Creating tenant "steal" was refused \(403/,
    );
    await expect(env.client(ALICE).getTenant('steal')).rejects.toThrow();
  });

  it('runs its examples', async () => {
    for (const example of examples) {
      const step = yaml.parse(example.example).steps[0];
      const { ctx } = actionContext(step.input);
      await action().handler(ctx);
      expect(ctx.output).toHaveBeenCalledWith(
        'namespace',
        `tenant-${step.input.name}`,
      );
    }
  });
});
