import http from 'node:http';
import net from 'node:net';
import { stringify } from 'yaml';
import { TestCluster } from '@paved/test-cluster';
import { KubeClient } from './client';
import {
  connectionFromKubeConfigFile,
  connectionFromKubeConfigYaml,
  KubeConnection,
} from './kubeconfig';
import { isExpired, jwtExpiry, OIDC_REFRESH_BEFORE_MS } from './oidc';
import {
  startControlPlane,
  serviceAccountToken,
} from './__testUtils__/controlPlane';

jest.setTimeout(180_000);

const jwt = (payload: Record<string, unknown>) =>
  [
    Buffer.from('{"alg":"none"}').toString('base64url'),
    Buffer.from(JSON.stringify(payload)).toString('base64url'),
    'sig',
  ].join('.');

describe('jwtExpiry and isExpired', () => {
  it('reads exp from a JWT payload', () => {
    expect(jwtExpiry(jwt({ exp: 1_700_000_000 }))).toBe(1_700_000_000_000);
    expect(jwtExpiry(jwt({ sub: 'x' }))).toBeUndefined();
    expect(jwtExpiry('opaque-token')).toBeUndefined();
    expect(jwtExpiry('a.!!!.c')).toBeUndefined();
  });
  it('is expired when exp is past or within the refresh margin', () => {
    const now = 1_700_000_000_000;
    expect(isExpired(jwt({ exp: now / 1000 - 1 }), now)).toBe(true);
    expect(
      isExpired(
        jwt({ exp: (now + OIDC_REFRESH_BEFORE_MS - 1000) / 1000 }),
        now,
      ),
    ).toBe(true);
    expect(isExpired(jwt({ exp: now / 1000 + 3600 }), now)).toBe(false);
    expect(isExpired('opaque-token', now)).toBe(false);
  });
});

/** A real OpenID issuer: discovery and a token endpoint that hands out `idToken`. */
async function issuer(idToken: () => string) {
  const state = { refreshes: 0, forms: [] as URLSearchParams[] };
  const server = http.createServer((req, res) => {
    const base = `http://${req.headers.host}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({ issuer: base, token_endpoint: `${base}/token` }),
      );
      return;
    }
    if (req.url === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', c => {
        body += c;
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        state.forms.push(form);
        if (form.get('grant_type') !== 'refresh_token') {
          res.writeHead(400).end('{"error":"unsupported_grant_type"}');
          return;
        }
        if (form.get('refresh_token') !== 'refresh-1') {
          res.writeHead(400).end('{"error":"invalid_grant"}');
          return;
        }
        state.refreshes += 1;
        res.setHeader('Content-Type', 'application/json');
        res.end(
          JSON.stringify({ id_token: idToken(), refresh_token: 'refresh-1' }),
        );
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('oidc auth-provider against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let admin: KubeClient;
  let adminConnection: KubeConnection;
  let saToken: string;

  beforeAll(async () => {
    cluster = await startControlPlane();
    adminConnection = connectionFromKubeConfigFile(cluster.kubeconfigPath);
    admin = await KubeClient.fromKubeConfig(adminConnection);
    saToken = await serviceAccountToken(admin, 'oidc');
  });
  afterAll(async () => {
    admin?.close();
    await cluster?.stop();
  });

  function kubeconfig(config: Record<string, unknown>) {
    return stringify({
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'me' } }],
      clusters: [
        {
          name: 'k',
          cluster: {
            server: cluster.server,
            'certificate-authority-data':
              adminConnection.ca?.toString('base64'),
          },
        },
      ],
      users: [
        { name: 'me', user: { 'auth-provider': { name: 'oidc', config } } },
      ],
    });
  }

  /** Who the API server says the client is (any authenticated user may ask). */
  async function whoAmI(client: KubeClient) {
    const review = await client.request<{
      status?: { userInfo?: { username?: string } };
    }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      },
    });
    return review.status?.userInfo?.username;
  }

  it('sends a valid id-token as the bearer token, without asking the issuer', async () => {
    const idp = await issuer(() => saToken);
    const client = await KubeClient.fromKubeConfig(
      connectionFromKubeConfigYaml(
        kubeconfig({
          'id-token': saToken,
          'refresh-token': 'refresh-1',
          'idp-issuer-url': idp.url,
          'client-id': 'kubernetes',
        }),
      ),
    );
    try {
      expect(await whoAmI(client)).toBe('system:serviceaccount:default:oidc');
      expect(idp.state.refreshes).toBe(0);
    } finally {
      client.close();
      idp.close();
    }
  });

  it('refreshes an id-token the API server rejects (401) through the issuer and retries once', async () => {
    const idp = await issuer(() => saToken);
    const client = await KubeClient.fromKubeConfig(
      connectionFromKubeConfigYaml(
        kubeconfig({
          'id-token': 'rejected-by-the-api-server',
          'refresh-token': 'refresh-1',
          'idp-issuer-url': idp.url,
          'client-id': 'kubernetes',
          'client-secret': 's3cret',
        }),
      ),
    );
    try {
      expect(await whoAmI(client)).toBe('system:serviceaccount:default:oidc');
      expect(idp.state.refreshes).toBe(1);
      expect(idp.state.forms[0].get('client_id')).toBe('kubernetes');
      expect(idp.state.forms[0].get('client_secret')).toBe('s3cret');
      // The new token is kept: no second refresh.
      expect(await whoAmI(client)).toBe('system:serviceaccount:default:oidc');
      expect(await client.statusOf('/version')).toBe(200);
      expect(idp.state.refreshes).toBe(1);
    } finally {
      client.close();
      idp.close();
    }
  });

  it('refreshes an id-token whose JWT exp is past before sending it', async () => {
    const idp = await issuer(() => saToken);
    const client = await KubeClient.fromKubeConfig(
      connectionFromKubeConfigYaml(
        kubeconfig({
          'id-token': jwt({ exp: Math.floor(Date.now() / 1000) - 60 }),
          'refresh-token': 'refresh-1',
          'idp-issuer-url': idp.url,
          'client-id': 'kubernetes',
        }),
      ),
    );
    try {
      expect(await whoAmI(client)).toBe('system:serviceaccount:default:oidc');
      expect(idp.state.refreshes).toBe(1);
    } finally {
      client.close();
      idp.close();
    }
  });

  it('without a refresh-token, a rejected id-token fails saying what to do', async () => {
    const client = await KubeClient.fromKubeConfig(
      connectionFromKubeConfigYaml(
        kubeconfig({ 'id-token': 'rejected-by-the-api-server' }),
      ),
    );
    try {
      await expect(whoAmI(client)).rejects.toThrow(
        'the oidc id-token expired and has no refresh-token: log in again with kubectl oidc-login or switch to an exec plugin (kubelogin)',
      );
    } finally {
      client.close();
    }
  });

  it('a refresh the issuer refuses fails saying to log in again', async () => {
    const idp = await issuer(() => saToken);
    const client = await KubeClient.fromKubeConfig(
      connectionFromKubeConfigYaml(
        kubeconfig({
          'id-token': 'rejected-by-the-api-server',
          'refresh-token': 'revoked',
          'idp-issuer-url': idp.url,
          'client-id': 'kubernetes',
        }),
      ),
    );
    try {
      await expect(whoAmI(client)).rejects.toThrow(
        /answered 400.*invalid_grant.*log in again with kubectl oidc-login/,
      );
    } finally {
      client.close();
      idp.close();
    }
  });

  it('an oidc user with neither id-token nor refresh-token is refused when read', () => {
    expect(() => connectionFromKubeConfigYaml(kubeconfig({}))).toThrow(
      'kubeconfig user "me" uses the auth-provider "oidc" with neither config.id-token nor config.refresh-token',
    );
  });
});
