/**
 * `paved login --guest` against Backstage's real auth backend with the
 * guest sign-in provider (as the local stack runs it): the token it gets
 * is the guest's user token, with its expiry. (Paved's own routes are
 * tested in cli.test.ts, on the test backend's auth.)
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import guestProvider from '@backstage/plugin-auth-backend-module-guest-provider';
import { guestSignIn } from './auth';

describe('guest sign-in', () => {
  const nodeEnv = process.env.NODE_ENV;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let url: string;

  beforeAll(async () => {
    // The guest provider serves development only (Jest sets NODE_ENV=test).
    process.env.NODE_ENV = 'development';
    backend = await startTestBackend({
      features: [
        authPlugin,
        guestProvider,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            auth: { providers: { guest: {} } },
          },
        }),
      ],
    });
    const { port } = backend.server.address() as { port: number };
    url = `http://127.0.0.1:${port}`;
  }, 60_000);

  afterAll(async () => {
    process.env.NODE_ENV = nodeEnv;
    await backend?.stop();
  });

  it("gets the guest's user token from the guest provider", async () => {
    const before = Date.now();
    const signIn = await guestSignIn(url);
    expect(signIn).toMatchObject({
      method: 'guest',
      identity: 'user:development/guest',
    });
    // A Backstage user token: a JWT whose subject is the guest.
    const payload = JSON.parse(
      Buffer.from(signIn.token.split('.')[1], 'base64url').toString('utf8'),
    );
    expect(payload.sub).toBe('user:development/guest');
    const expires = Date.parse(signIn.expiresAt!);
    expect(expires).toBeGreaterThan(before + 10 * 60_000);
    expect(expires).toBeLessThan(before + 25 * 3600_000);
  });

  it('says so where the backend has no guest provider', async () => {
    await expect(guestSignIn(`${url}/nothing-here`)).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining(
        'This backend does not offer the guest sign-in',
      ),
    });
  });
});
