import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import request from 'supertest';
import { pavedPlugin } from '../plugin';
import {
  PavedPermissionPolicy,
  pavedPolicyOptions,
} from '@paved/plugin-permission-backend-module-paved';

/** Two users in two groups, and a platform admin in neither. */
export const ALICE = 'user:default/alice';
export const BOB = 'user:default/bob';
export const ROOT = 'user:default/root';
export const TEAM_A = 'group:default/team-a';
export const TEAM_B = 'group:default/team-b';
export const PLATFORM = 'group:default/platform';

const GROUPS: Record<string, string[]> = {
  [ALICE]: [TEAM_A],
  [BOB]: [TEAM_B],
  [ROOT]: [PLATFORM],
};

/**
 * Backstage's user info, answering group membership from a fixed map: the
 * identity part of the test (what the catalog would say), not of the code
 * under test.
 */
export const groupUserInfoFactory = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory: () => ({
    async getUserInfo(credentials: any) {
      const ref = credentials.principal.userEntityRef;
      return {
        userEntityRef: ref,
        ownershipEntityRefs: [ref, ...(GROUPS[ref] ?? [])],
      };
    },
  }),
});

/**
 * The permissions service, deciding in-process with Paved's real policy
 * (PavedPermissionPolicy) and the user's group memberships above, instead of
 * over HTTP to the permission backend: Backstage's mock auth drops the
 * calling plugin from on-behalf-of tokens, which the permission backend
 * then refuses for conditional requests. Conditions are still applied by
 * the plugin's own rules (TenantAccess), as in production.
 */
export const localPolicyPermissionsFactory = createServiceFactory({
  service: coreServices.permissions,
  deps: { userInfo: coreServices.userInfo, config: coreServices.rootConfig },
  factory: ({ userInfo, config }) => {
    const policy = new PavedPermissionPolicy(pavedPolicyOptions(config));
    const decide = async (requests: any[], options: any) => {
      const { credentials } = options;
      if (credentials.principal.type === 'service') {
        return requests.map(() => ({ result: AuthorizeResult.ALLOW }));
      }
      const user =
        credentials.principal.type === 'user'
          ? { info: await userInfo.getUserInfo(credentials) }
          : undefined;
      return Promise.all(
        requests.map(r =>
          policy.handle({ permission: r.permission }, user as any),
        ),
      );
    };
    return {
      authorize: decide,
      authorizeConditional: decide,
    } as any;
  },
});

export interface PavedTestBackend {
  request: ReturnType<typeof request>;
  server: any;
  /** The Authorization header of a user. */
  as(user: string): string;
  stop(): Promise<void>;
}

/**
 * Starts a Backstage backend with the Paved plugin and Paved's policy, on
 * the given database.
 */
export async function startPavedBackend(options: {
  knex: Knex;
  config?: Record<string, unknown>;
  features?: any[];
}): Promise<PavedTestBackend> {
  const { paved, ...rest } = (options.config ?? {}) as any;
  const backend = await startTestBackend({
    features: [
      pavedPlugin,
      localPolicyPermissionsFactory,
      // The real scheduler, so the sync job runs on its schedule.
      schedulerServiceFactory,
      groupUserInfoFactory,
      mockServices.database.factory({ knex: options.knex }),
      mockServices.rootConfig.factory({
        data: {
          permission: { enabled: true },
          paved: {
            secrets: { encryptionKey: 'test-encryption-key' },
            sync: { frequencySeconds: 1 },
            permissions: { admins: [PLATFORM] },
            // High enough for suites that write a lot; tests of the
            // limit itself set their own.
            rateLimit: { writes: 1_000_000 },
            ...paved,
          },
          ...rest,
        },
      }),
      ...(options.features ?? []),
    ],
  });
  return {
    request: request(backend.server),
    server: backend.server,
    as: user => mockCredentials.user.header(user),
    stop: () => backend.stop(),
  };
}
