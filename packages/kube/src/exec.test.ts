import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { TestCluster } from '@paved/test-cluster';
import { KubeClient } from './client';
import { KubeApiError } from './errors';
import {
  connectionFromKubeConfigFile,
  connectionFromKubeConfigYaml,
  KubeConnection,
} from './kubeconfig';
import {
  ExecConfig,
  ExecCredentialProvider,
  execInfo,
  parseExecCredential,
} from './exec';
import { NAMESPACES } from './resources';
import {
  startControlPlane,
  serviceAccountToken,
} from './__testUtils__/controlPlane';

jest.setTimeout(180_000);

const V1 = 'client.authentication.k8s.io/v1';

/** What the plugin script does on its n-th run (the last entry repeats). */
interface PluginRun {
  token?: string;
  cert?: string;
  key?: string;
  /** expirationTimestamp = now + this (negative: in the past) */
  expiresInMs?: number;
  apiVersion?: string;
  /** printed instead of an ExecCredential */
  stdout?: string;
  stderr?: string;
  exit?: number;
  sleepMs?: number;
}

/**
 * A real plugin: a node script that reads its plan from `plan.json`, counts
 * its runs in `runs`, keeps the `KUBERNETES_EXEC_INFO` it got in `info` and
 * prints an ExecCredential. Its directory comes from the kubeconfig's `env`.
 */
const PLUGIN = `#!${process.execPath}
const fs = require('fs');
const path = require('path');
const dir = process.env.PLUGIN_DIR;
fs.appendFileSync(path.join(dir, 'runs'), 'run\\n');
const n = fs.readFileSync(path.join(dir, 'runs'), 'utf8').split('\\n').filter(Boolean).length;
fs.writeFileSync(path.join(dir, 'info'), process.env.KUBERNETES_EXEC_INFO || '');
const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8'));
const run = plan[Math.min(n, plan.length) - 1];
setTimeout(() => {
  if (run.stderr) process.stderr.write(run.stderr);
  if (run.stdout !== undefined) process.stdout.write(run.stdout);
  else {
    const status = {};
    if (run.token) status.token = run.token;
    if (run.cert) status.clientCertificateData = run.cert;
    if (run.key) status.clientKeyData = run.key;
    if (run.expiresInMs !== undefined)
      status.expirationTimestamp = new Date(Date.now() + run.expiresInMs).toISOString();
    process.stdout.write(JSON.stringify({
      apiVersion: run.apiVersion || '${V1}',
      kind: 'ExecCredential',
      status,
    }));
  }
  process.exitCode = run.exit || 0;
}, run.sleepMs || 0);
`;

class Plugin {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-plugin-'));

  constructor(plan: PluginRun[], extra: Record<string, unknown> = {}) {
    fs.writeFileSync(path.join(this.dir, 'plugin'), PLUGIN, { mode: 0o755 });
    this.plan(plan);
    this.exec = {
      apiVersion: V1,
      command: './plugin',
      interactiveMode: 'Never',
      env: [{ name: 'PLUGIN_DIR', value: this.dir }],
      ...extra,
    };
  }

  exec: Record<string, unknown>;

  plan(runs: PluginRun[]) {
    fs.writeFileSync(path.join(this.dir, 'plan.json'), JSON.stringify(runs));
  }

  get runs(): number {
    const file = path.join(this.dir, 'runs');
    if (!fs.existsSync(file)) return 0;
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  }

  get info(): unknown {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'info'), 'utf8'));
  }

  /** A kubeconfig next to the plugin (its command is relative to it). */
  kubeconfig(server: string, ca?: Buffer): string {
    const file = path.join(this.dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'exec',
        contexts: [{ name: 'exec', context: { cluster: 'c', user: 'u' } }],
        clusters: [
          {
            name: 'c',
            cluster: {
              server,
              ...(ca
                ? { 'certificate-authority-data': ca.toString('base64') }
                : {}),
            },
          },
        ],
        users: [{ name: 'u', user: { exec: this.exec } }],
      }),
    );
    return file;
  }

  remove() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('exec credential plugins against a real API server', () => {
  let cluster: TestCluster;
  let admin: KubeClient;
  let ca: Buffer | undefined;
  let token: string;
  let adminCert: string;
  let adminKey: string;
  const plugins: Plugin[] = [];
  const clients: KubeClient[] = [];

  beforeAll(async () => {
    cluster = await startControlPlane();
    const adminConnection = connectionFromKubeConfigFile(
      cluster.kubeconfigPath,
    );
    ca = adminConnection.ca;
    if (!adminConnection.cert || !adminConnection.key) {
      throw new Error('the test cluster kubeconfig has no client certificate');
    }
    adminCert = adminConnection.cert.toString();
    adminKey = adminConnection.key.toString();
    admin = await KubeClient.fromKubeConfig(adminConnection);
    // A service account that may list namespaces, and a real token for it.
    token = await serviceAccountToken(admin, 'exec', { listNamespaces: true });
  });
  afterEach(() => {
    clients.splice(0).forEach(c => c.close());
    plugins.splice(0).forEach(p => p.remove());
  });
  afterAll(async () => {
    admin?.close();
    await cluster?.stop();
  });

  function plugin(plan: PluginRun[], extra: Record<string, unknown> = {}) {
    const p = new Plugin(plan, extra);
    plugins.push(p);
    return p;
  }

  async function clientFor(
    p: Plugin,
    change: (c: KubeConnection) => KubeConnection = c => c,
  ) {
    const client = await KubeClient.fromKubeConfig(
      change(connectionFromKubeConfigFile(p.kubeconfig(cluster.server, ca))),
    );
    clients.push(client);
    return client;
  }

  async function failure(promise: Promise<unknown>): Promise<KubeApiError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof KubeApiError) return error;
      throw error;
    }
    throw new Error('expected the request to fail');
  }

  it('authenticates with the token and runs the plugin once for many concurrent requests', async () => {
    const p = plugin([{ token }]);
    const client = await clientFor(p);
    const lists = await Promise.all(
      Array.from({ length: 20 }, () => client.list(NAMESPACES)),
    );
    expect(
      lists.map(l => l.items.some(n => n.metadata.name === 'default')),
    ).toEqual(Array(20).fill(true));
    await client.get(NAMESPACES, 'default');
    expect(await client.statusOf('/api/v1/namespaces')).toBe(200);
    // No expirationTimestamp: cached for the life of the process.
    expect(p.runs).toBe(1);
    // The service account may only read namespaces: the token is its own.
    const denied = await failure(
      client.request('GET', '/api/v1/namespaces/default/secrets'),
    );
    expect(denied.code).toBe(403);
    expect(denied.message).toContain('system:serviceaccount:default:exec');
  });

  it('runs the plugin again when the credential has expired or is about to', async () => {
    const expired = plugin([{ token, expiresInMs: -60_000 }]);
    const c1 = await clientFor(expired);
    for (let i = 0; i < 3; i += 1) await c1.list(NAMESPACES);
    expect(expired.runs).toBe(3);

    // 2 s left, within the refresh margin: also run again.
    const near = plugin([{ token, expiresInMs: 2_000 }]);
    const c2 = await clientFor(near);
    for (let i = 0; i < 3; i += 1) await c2.list(NAMESPACES);
    expect(near.runs).toBe(3);

    const later = plugin([{ token, expiresInMs: 3_600_000 }]);
    const c3 = await clientFor(later);
    for (let i = 0; i < 3; i += 1) await c3.list(NAMESPACES);
    expect(later.runs).toBe(1);
  });

  it('on a 401 drops the credential, runs the plugin again and retries once', async () => {
    const p = plugin([{ token: 'not-a-valid-token' }, { token }]);
    const client = await clientFor(p);
    const list = await client.list(NAMESPACES);
    expect(list.items.length).toBeGreaterThan(0);
    expect(p.runs).toBe(2);
    await client.list(NAMESPACES);
    expect(p.runs).toBe(2);

    // statusOf retries too.
    const q = plugin([{ token: 'not-a-valid-token' }, { token }]);
    expect(await (await clientFor(q)).statusOf('/api/v1/namespaces')).toBe(200);
    expect(q.runs).toBe(2);

    // A watch too, before its stream opens.
    const w = plugin([{ token: 'not-a-valid-token' }, { token }]);
    const watcher = await clientFor(w);
    const controller = new AbortController();
    let opened = false;
    await watcher.watch(NAMESPACES, {
      resourceVersion: (await admin.list(NAMESPACES)).metadata.resourceVersion,
      timeoutSeconds: 30,
      stallTimeoutMs: 30_000,
      signal: controller.signal,
      onEvent: () => undefined,
      onOpen: () => {
        opened = true;
        controller.abort();
      },
    });
    expect(opened).toBe(true);
    expect(w.runs).toBe(2);

    // A token that stays wrong: one retry, then the 401 itself.
    const wrong = plugin([{ token: 'not-a-valid-token' }]);
    const error = await failure((await clientFor(wrong)).list(NAMESPACES));
    expect(error.code).toBe(401);
    expect(wrong.runs).toBe(2);
  });

  it('authenticates with a client certificate from the plugin', async () => {
    const p = plugin([{ cert: adminCert, key: adminKey }]);
    const client = await clientFor(p);
    // The admin's certificate may read secrets, the service account may not.
    await client.request('GET', '/api/v1/namespaces/default/secrets');
    await Promise.all([client.list(NAMESPACES), client.list(NAMESPACES)]);
    expect(p.runs).toBe(1);
  });

  it('says what to fix when the plugin cannot give a credential', async () => {
    const missing = plugin([{ token }], {
      command: 'paved-no-such-auth-plugin',
      installHint: 'Install it with: brew install paved-no-such-auth-plugin',
    });
    const notFound = await failure((await clientFor(missing)).list(NAMESPACES));
    expect(notFound.code).toBe(0);
    expect(notFound.message).toBe(
      'exec plugin "paved-no-such-auth-plugin": not found on PATH. Install it with: brew install paved-no-such-auth-plugin',
    );

    const noHint = plugin([{ token }], { command: './missing/plugin' });
    expect(
      (await failure((await clientFor(noHint)).list(NAMESPACES))).message,
    ).toBe(
      `exec plugin "./missing/plugin": not found (resolved to ${path.join(
        noHint.dir,
        'missing/plugin',
      )}); install it or fix the command in the kubeconfig`,
    );

    const exits = plugin([
      {
        exit: 3,
        stderr: `token expired, run aws sso login${'!'.repeat(5000)}`,
      },
    ]);
    const exitError = await failure((await clientFor(exits)).list(NAMESPACES));
    expect(exitError.message).toMatch(
      /^exec plugin "\.\/plugin" failed \(exit code 3\): token expired, run aws sso login!+… \(3032 more characters\)$/,
    );

    const oldVersion = plugin([
      { token, apiVersion: 'client.authentication.k8s.io/v1beta1' },
    ]);
    expect(
      (await failure((await clientFor(oldVersion)).list(NAMESPACES))).message,
    ).toBe(
      'exec plugin "./plugin" printed an ExecCredential of apiVersion "client.authentication.k8s.io/v1beta1", but the kubeconfig asks for client.authentication.k8s.io/v1: make the kubeconfig\'s exec.apiVersion match the plugin',
    );

    const garbage = plugin([{ stdout: 'Please log in', stderr: 'hint' }]);
    expect(
      (await failure((await clientFor(garbage)).list(NAMESPACES))).message,
    ).toBe(
      'exec plugin "./plugin" printed no ExecCredential JSON on stdout (got "Please log in"); its stderr: hint',
    );

    const slow = plugin([{ token, sleepMs: 30_000 }]);
    const slowClient = await clientFor(slow, c => ({
      ...c,
      exec: { ...c.exec!, timeoutMs: 300 },
    }));
    const started = Date.now();
    expect((await failure(slowClient.list(NAMESPACES))).message).toBe(
      'exec plugin "./plugin" did not finish in 300ms and was killed',
    );
    expect(Date.now() - started).toBeLessThan(5_000);

    // A failed run is not cached: once the plugin works, so does the client.
    exits.plan([{ token }]);
    const recovered = await clientFor(exits);
    await recovered.list(NAMESPACES);
    expect(exits.runs).toBe(2);
  });

  it('passes KUBERNETES_EXEC_INFO, with the cluster when provideClusterInfo is set', async () => {
    const plain = plugin([{ token }]);
    await (await clientFor(plain)).list(NAMESPACES);
    expect(plain.info).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: false },
    });

    const withCluster = plugin([{ token }], { provideClusterInfo: true });
    await (await clientFor(withCluster)).list(NAMESPACES);
    expect(withCluster.info).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: cluster.server,
          'certificate-authority-data': ca?.toString('base64'),
        },
      },
    });
  });
});

describe('exec configuration', () => {
  const kubeconfig = (exec: unknown, clusterExtra = '') => `
current-context: dev
contexts: [{ name: dev, context: { cluster: c, user: me } }]
clusters:
  - name: c
    cluster:
      server: https://k8s.example:6443
      tls-server-name: api.example
      ${clusterExtra}
users: [{ name: me, user: { exec: ${JSON.stringify(exec)} } }]
`;

  it('reads the exec section and builds KUBERNETES_EXEC_INFO', () => {
    const c = connectionFromKubeConfigYaml(
      kubeconfig(
        {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          command: 'aws',
          args: ['eks', 'get-token', '--cluster-name', 'prod'],
          env: [{ name: 'AWS_PROFILE', value: 'platform' }],
          provideClusterInfo: true,
        },
        `extensions: [{ name: client.authentication.k8s.io/exec, extension: { audience: prod } }]`,
      ),
      '/etc/paved',
    );
    const exec = c.exec!;
    expect(exec).toMatchObject({
      command: 'aws',
      args: ['eks', 'get-token', '--cluster-name', 'prod'],
      env: [{ name: 'AWS_PROFILE', value: 'platform' }],
      // v1beta1's default
      interactiveMode: 'IfAvailable',
      baseDir: '/etc/paved',
    });
    expect(JSON.parse(execInfo(exec))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: 'https://k8s.example:6443',
          'tls-server-name': 'api.example',
          config: { audience: 'prod' },
        },
      },
    });
    const withoutInfo: ExecConfig = { ...exec, provideClusterInfo: false };
    expect(JSON.parse(execInfo(withoutInfo))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  it('refuses an exec section it cannot run, naming the field', () => {
    const read = (exec: unknown) => () =>
      connectionFromKubeConfigYaml(kubeconfig(exec));
    expect(
      read({ apiVersion: V1, command: 'x', interactiveMode: 'Always' }),
    ).toThrow(
      'kubeconfig user "me": exec plugin "x" has interactiveMode: Always, but Paved runs plugins without a terminal: use Never or IfAvailable, with credentials the plugin can get without asking',
    );
    expect(read({ apiVersion: V1, command: 'x' })).toThrow(
      'kubeconfig user "me": exec plugin has no interactiveMode, which client.authentication.k8s.io/v1 requires: set interactiveMode: Never (or IfAvailable)',
    );
    expect(
      read({
        apiVersion: 'client.authentication.k8s.io/v1alpha1',
        command: 'x',
      }),
    ).toThrow(
      'kubeconfig user "me": exec plugin apiVersion "client.authentication.k8s.io/v1alpha1": use one of client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1',
    );
    expect(read({ apiVersion: V1, interactiveMode: 'Never' })).toThrow(
      'kubeconfig user "me": exec plugin has no command',
    );
    expect(
      read({
        apiVersion: V1,
        command: 'x',
        interactiveMode: 'Never',
        env: { AWS_PROFILE: 'p' },
      }),
    ).toThrow(
      'kubeconfig user "me": exec plugin env must be a list of { name, value } strings',
    );
  });

  it('checks the ExecCredential a plugin prints', () => {
    const config = { apiVersion: V1, command: 'p' } as const;
    const print = (status: unknown, kind = 'ExecCredential') =>
      JSON.stringify({ apiVersion: V1, kind, status });
    expect(
      parseExecCredential(
        print({ token: 't', expirationTimestamp: '2030-01-02T03:04:05Z' }),
        config,
      ),
    ).toEqual({
      token: 't',
      cert: undefined,
      key: undefined,
      expiresAt: Date.parse('2030-01-02T03:04:05Z'),
    });
    expect(() =>
      parseExecCredential(print({ token: 't' }, 'Status'), config),
    ).toThrow(
      'exec plugin "p" printed JSON that is not an ExecCredential (kind "Status")',
    );
    expect(() =>
      parseExecCredential(print({ clientCertificateData: 'c' }), config),
    ).toThrow(
      'exec plugin "p" returned only one of clientCertificateData and clientKeyData, not both',
    );
    expect(() => parseExecCredential(print({}), config)).toThrow(
      'exec plugin "p" returned neither a token nor a client certificate and key',
    );
    expect(() =>
      parseExecCredential(
        print({ token: 't', expirationTimestamp: 'soon' }),
        config,
      ),
    ).toThrow(
      'exec plugin "p" returned an expirationTimestamp that is not a time: "soon"',
    );
  });

  it('shares one run between concurrent callers and caches until near expiry', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-provider-'));
    try {
      const script = path.join(dir, 'p.sh');
      fs.writeFileSync(
        script,
        `#!/bin/sh\necho run >> "${dir}/runs"\nsleep 0.2\necho '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2030-01-01T00:00:00Z"}}'\n`,
        { mode: 0o755 },
      );
      let now = Date.parse('2029-12-31T23:00:00Z');
      const provider = new ExecCredentialProvider(
        {
          apiVersion: V1,
          command: script,
          args: [],
          env: [],
          interactiveMode: 'Never',
          provideClusterInfo: false,
          baseDir: dir,
        },
        { now: () => now, refreshBeforeMs: 60_000 },
      );
      const runs = () =>
        fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n')
          .length;
      const got = await Promise.all(
        Array.from({ length: 10 }, () => provider.get()),
      );
      expect(new Set(got).size).toBe(1);
      expect(runs()).toBe(1);
      now = Date.parse('2029-12-31T23:58:59Z');
      expect(await provider.get()).toBe(got[0]);
      expect(runs()).toBe(1);
      // Within a minute of expiry: run again.
      now = Date.parse('2029-12-31T23:59:30Z');
      const fresh = await provider.get();
      expect(fresh).not.toBe(got[0]);
      expect(runs()).toBe(2);
      now = Date.parse('2029-12-31T23:00:00Z');
      // invalidate drops only the credential it is given.
      provider.invalidate(got[0]);
      expect(await provider.get()).toBe(fresh);
      provider.invalidate(fresh);
      await provider.get();
      expect(runs()).toBe(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
