/**
 * The module installs Paved's policy into the real permission backend: a
 * user's requests to /api/permission/authorize are decided by it, and a
 * tenant permission on a named tenant is decided by the owner rule, which
 * the permission backend applies through the Paved plugin (on SQLite).
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import permissionBackend from '@backstage/plugin-permission-backend';
import pavedPlugin from '@paved/plugin-paved-backend';
import {
  ALICE,
  BOB,
  PLATFORM,
  ROOT,
  TEAM_A,
  groupUserInfoFactory,
} from '@paved/plugin-paved-backend/testUtils';
import {
  PAVED_TENANT_RESOURCE_TYPE,
  pavedPermissions,
} from '@paved/plugin-paved-common';
import request from 'supertest';
import { ConfigReader } from '@backstage/config';
import permissionModulePavedPolicy, {
  PavedPermissionPolicy,
  pavedCatalogDecision,
  pavedPolicyOptions,
} from './index';

jest.setTimeout(120_000);

const SETUP = 'plugin:test-setup';

const basic = (name: string) => ({
  type: 'basic',
  name,
  attributes: { action: 'update' },
});

describe('permissionModulePavedPolicy', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const as = (user: string) => mockCredentials.user.header(user);

  beforeAll(async () => {
    backend = await startTestBackend({
      features: [
        permissionBackend,
        permissionModulePavedPolicy,
        pavedPlugin,
        groupUserInfoFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: {
              database: { client: 'better-sqlite3', connection: ':memory:' },
            },
            permission: { enabled: true },
            paved: {
              secrets: { encryptionKey: 'test-encryption-key' },
              permissions: { admins: [PLATFORM] },
              // The test's own setup: creating the tenant as a service
              // (the decisions under test are users').
              serviceAccess: [{ subject: SETUP, tenants: ['*'] }],
            },
          },
        }),
      ],
    });
    // The tenant the resource decisions below are about, created through
    // the API.
    const created = await request(backend.server)
      .post('/api/paved/tenants')
      .set(
        'authorization',
        mockCredentials.service.header({
          onBehalfOf: mockCredentials.service(SETUP),
          targetPluginId: 'paved',
        }),
      )
      .send({ name: 'acme', displayName: 'Acme', owner: TEAM_A });
    if (created.status !== 201) {
      throw new Error(
        `Creating the tenant answered ${created.status}: ${JSON.stringify(
          created.body,
        )}`,
      );
    }
  });

  afterAll(async () => {
    await backend?.stop();
  });

  async function decide(user: string, items: object[]) {
    const res = await request(backend.server)
      .post('/api/permission/authorize')
      .set('authorization', as(user))
      .send({ items: items.map((item, i) => ({ id: String(i), ...item })) });
    expect(res.status).toBe(200);
    return res.body.items.map((item: { result: string }) => item.result);
  }

  it('denies the platform permissions to users and allows them to admins', async () => {
    const platform = [
      'paved.tenant.limits.override',
      'paved.tenant.isolation.disable',
      'paved.tenant.plan.change',
    ].map(name => ({ permission: basic(name) }));
    expect(await decide(ALICE, platform)).toEqual(['DENY', 'DENY', 'DENY']);
    expect(await decide(ROOT, platform)).toEqual(['ALLOW', 'ALLOW', 'ALLOW']);
  });

  it('allows tenant creation to signed-in users and leaves other plugins alone', async () => {
    const create = pavedPermissions.find(p => p.name === 'paved.tenant.create');
    expect(create).toBeDefined();
    expect(
      await decide(BOB, [
        { permission: create },
        { permission: basic('some.other.permission') },
      ]),
    ).toEqual(['ALLOW', 'ALLOW']);
  });

  it("makes a tenant's permissions conditional on the owner rule, with the user's groups as claims", async () => {
    // Direct user requests with a resourceRef are applied by the Paved
    // plugin's permission integration, which Backstage's mock auth cannot
    // call on a user's behalf; the policy's conditional answer is what the
    // Paved backend's own tests apply (localPolicyPermissionsFactory).
    const read = pavedPermissions.find(p => p.name === 'paved.tenant.read');
    expect(read).toMatchObject({ resourceType: PAVED_TENANT_RESOURCE_TYPE });
    const policy = new PavedPermissionPolicy({ admins: [PLATFORM] });
    const user = (ref: string, groups: string[]) =>
      ({
        info: { userEntityRef: ref, ownershipEntityRefs: [ref, ...groups] },
      } as any);
    expect(
      await policy.handle({ permission: read! }, user(ALICE, [TEAM_A])),
    ).toEqual({
      result: 'CONDITIONAL',
      pluginId: 'paved',
      resourceType: PAVED_TENANT_RESOURCE_TYPE,
      conditions: {
        rule: 'IS_TENANT_OWNER',
        resourceType: PAVED_TENANT_RESOURCE_TYPE,
        params: { claims: [ALICE, TEAM_A] },
      },
    });
    expect(
      await policy.handle({ permission: read! }, user(ROOT, [PLATFORM])),
    ).toEqual({ result: 'ALLOW' });
    expect(await policy.handle({ permission: read! })).toEqual({
      result: 'DENY',
    });
  });

  it("hides Paved's catalog entities from other teams unless visibleToAll", async () => {
    const entityRead = {
      type: 'resource',
      name: 'catalog.entity.read',
      attributes: { action: 'read' },
      resourceType: 'catalog-entity',
    } as const;
    const bob = {
      info: { userEntityRef: BOB, ownershipEntityRefs: [BOB] },
    } as any;
    const decision = pavedCatalogDecision({ permission: entityRead }, bob, {});
    expect(decision).toMatchObject({
      result: 'CONDITIONAL',
      pluginId: 'catalog',
      conditions: {
        anyOf: [
          {
            not: {
              rule: 'HAS_ANNOTATION',
              params: { annotation: 'paved.dev/app' },
            },
          },
          { rule: 'IS_ENTITY_OWNER', params: { claims: [BOB] } },
        ],
      },
    });
    expect(
      pavedCatalogDecision({ permission: entityRead }, bob, {
        catalogVisibleToAll: true,
      }),
    ).toEqual({ result: 'ALLOW' });
    expect(
      pavedPolicyOptions(
        new ConfigReader({
          paved: {
            permissions: { admins: [PLATFORM] },
            catalog: { visibleToAll: true },
          },
        }),
      ),
    ).toEqual({ admins: [PLATFORM], catalogVisibleToAll: true });
  });
});
