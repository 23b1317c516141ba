/**
 * Test helpers: a real Paved backend (plugin, permissions policy, SQLite) to
 * run the actions against, and a client source that acts as a given user.
 */
import { AddressInfo } from 'net';
import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { PavedApiClient } from '@paved/plugin-paved-common';
import {
  startPavedBackend,
  PavedTestBackend,
} from '@paved/plugin-paved-backend/testUtils';
import { PavedClientSource } from '../actions/pavedClient';

export {
  ALICE,
  BOB,
  TEAM_A,
  TEAM_B,
  SecretBox,
} from '@paved/plugin-paved-backend/testUtils';

export interface ActionTestBackend {
  backend: PavedTestBackend;
  /** The Paved backend's database, to see what it stored. */
  knex: Awaited<ReturnType<TestDatabases['init']>>;
  baseUrl: string;
  /** A client source whose requests carry `user`'s credentials. */
  clientsFor(user: string): PavedClientSource;
  /** A Paved API client acting as `user`, to check what an action did. */
  client(user: string): PavedApiClient;
  stop(): Promise<void>;
}

// TestDatabases registers its clean-up hooks, so it is created at load time.
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

export async function startActionTestBackend(
  config?: Record<string, unknown>,
): Promise<ActionTestBackend> {
  const knex = await databases.init('SQLITE_3');
  const backend = await startPavedBackend({ knex, config });
  if (!backend.server.listening) {
    await new Promise<void>(resolve =>
      backend.server.listen(0, '127.0.0.1', resolve),
    );
  }
  const { port } = backend.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}/api/paved`;
  const client = (user: string) =>
    new PavedApiClient({ baseUrl, token: mockCredentials.user.token(user) });
  return {
    backend,
    knex,
    baseUrl,
    client,
    clientsFor: user => ({ forInitiator: async () => client(user) }),
    stop: () => backend.stop(),
  };
}

/** An action context as the Scaffolder gives it, with the task log captured. */
export function actionContext<TInput extends Record<string, any>>(
  input: TInput,
  options: { dryRun?: boolean; secrets?: Record<string, string> } = {},
) {
  const log: string[] = [];
  const checkpoints = new Map<string, unknown>();
  const ctx = createMockActionContext({
    input: input as any,
    task: { id: 'task-1' },
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  ctx.isDryRun = options.dryRun ?? false;
  const record = (level: string) => (message: string) =>
    log.push(`${level}: ${message}`);
  ctx.logger.info = record('info') as any;
  ctx.logger.warn = record('warn') as any;
  ctx.logger.error = record('error') as any;
  ctx.logger.debug = record('debug') as any;
  // The Scaffolder stores checkpoint results with the task and, when a task
  // is retried, returns them instead of running `fn` again.
  ctx.checkpoint = (async ({
    key,
    fn,
  }: {
    key: string;
    fn: () => Promise<any>;
  }) => {
    if (!checkpoints.has(key)) checkpoints.set(key, await fn());
    return checkpoints.get(key);
  }) as any;
  return { ctx, log, checkpoints };
}
