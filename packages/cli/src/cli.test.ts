/**
 * The `paved` binary, run as a child process, against the real stack: a
 * test cluster with a real node (containers, Knative Serving, Traefik),
 * the operator in-process, and the Paved backend (SQLite in memory,
 * Paved's policy). It signs in with a token, deploys the example image and
 * sees its URL answer, then drives the app through every command; another
 * team's user is told "not found"; bad input gets usage errors and changes
 * nothing. The commands and their output are kept as a transcript.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  ALICE,
  BOB,
  PavedTestBackend,
  TEAM_A,
  startPavedBackend,
} from '@paved/plugin-paved-backend/testUtils';
import { AppView, PavedApiClient } from '@paved/plugin-paved-common';
import { Operator } from '@paved/operator';
import { KubeClient, REVISIONS } from '@paved/kube';
import {
  EXAMPLE_APP_IMAGE,
  eventually,
  requestThroughIngress,
  useDataPlaneCluster,
} from '@paved/test-cluster';

jest.setTimeout(420_000);

const BIN = path.resolve(__dirname, '../bin/paved');
const REPO = path.resolve(__dirname, '../../..');
const TRANSCRIPT =
  process.env.PAVED_CLI_TRANSCRIPT ??
  path.join(REPO, '.paved', 'cli-transcript.txt');
const TENANT = 'cli-a';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const transcript: string[] = [];

/** The arguments as one would type them in a shell. */
const shellWords = (args: string[]) =>
  args
    .map(a =>
      /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`,
    )
    .join(' ');

/** The token Backstage's test auth takes for `user` (a user token). */
const tokenOf = (user: string) =>
  mockCredentials.user.header(user).replace(/^Bearer /, '');

describe('paved, the command line, against the real stack', () => {
  // Idle apps scale to zero within seconds; a bad image fails in 60 s.
  const cluster = useDataPlaneCluster();
  let operator: Operator;
  let knex: Knex;
  let backend: PavedTestBackend;
  let backendUrl: string;
  /** The API as Alice, for what the test checks besides the CLI. */
  let alice: PavedApiClient;
  let ingressPort: number;
  const homes: Record<string, string> = {};

  /**
   * Runs `paved args` as `who` (their own config folder); `input` is its
   * stdin. Kept in the transcript as typed (with `shown` instead of the
   * arguments when they hold a secret).
   */
  function paved(
    who: 'alice' | 'bob' | 'nobody',
    args: string[],
    options: { input?: string; shown?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<Result> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: {
          PATH: process.env.PATH,
          HOME: homes[who],
          XDG_CONFIG_HOME: path.join(homes[who], 'config'),
          PAVED_URL: backendUrl,
          PAVED_INGRESS: `127.0.0.1:${ingressPort}`,
          ...options.env,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', d => (stdout += d));
      child.stderr.on('data', d => (stderr += d));
      child.on('error', reject);
      child.on('close', code => {
        const result = { code, stdout, stderr, ms: Date.now() - started };
        transcript.push(
          `[${who}] $ ${
            options.shown ?? `paved ${shellWords(args)}`
          }\n${stderr}${stdout}[exit ${code}, ${(result.ms / 1000).toFixed(
            1,
          )} s]\n`,
        );
        resolve(result);
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** Starts `paved args` and leaves it running (for `logs -f`). */
  function pavedRunning(who: 'alice', args: string[]) {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: homes[who],
        XDG_CONFIG_HOME: path.join(homes[who], 'config'),
        PAVED_URL: backendUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', d => (out.stdout += d));
    child.stderr.on('data', d => (out.stderr += d));
    const done = new Promise<Result>(resolve =>
      child.on('close', code => {
        const result = { code, ...out, ms: Date.now() - started };
        transcript.push(
          `[${who}] $ paved ${shellWords(args)}   (Ctrl-C after the line)\n${
            out.stderr
          }${out.stdout}[exit ${code}, ${(result.ms / 1000).toFixed(1)} s]\n`,
        );
        resolve(result);
      }),
    );
    return { child, out, done };
  }

  const appUrl = () =>
    `http://web.tenant-${TENANT}.${cluster().dataPlane!.domain}`;
  const get = (url = appUrl(), retry = true) =>
    requestThroughIngress(cluster().dataPlane!, url, {
      timeoutMs: 60_000,
      retry,
    });

  beforeAll(async () => {
    ingressPort = cluster().dataPlane!.ingressPort;
    operator = await Operator.create({
      kubeConfig: cluster().kubeConfig,
      concurrency: 4,
      pollMs: 200,
    });
    await operator.start();
    knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    backend = await startPavedBackend({
      knex,
      config: {
        paved: { kubernetes: { kubeconfig: cluster().kubeconfigPath } },
      },
    });
    const { port } = backend.server.address() as { port: number };
    backendUrl = `http://127.0.0.1:${port}`;
    for (const who of ['alice', 'bob', 'nobody']) {
      homes[who] = fs.mkdtempSync(path.join(os.tmpdir(), `paved-cli-${who}-`));
    }
    // The tenant comes from Backstage (the template); the CLI uses it.
    alice = new PavedApiClient({
      baseUrl: `${backendUrl}/api/paved`,
      token: tokenOf(ALICE),
    });
    const admin = alice;
    await admin.createTenant({
      name: TENANT,
      displayName: 'CLI team',
      owner: TEAM_A,
      plan: 'starter',
    });
    await eventually(
      `tenant ${TENANT} Active`,
      async () =>
        (await admin.getTenant(TENANT)).status.phase === 'Active' || undefined,
      120_000,
    );
  }, 240_000);

  afterAll(async () => {
    fs.mkdirSync(path.dirname(TRANSCRIPT), { recursive: true });
    fs.writeFileSync(TRANSCRIPT, transcript.join('\n'));
    // eslint-disable-next-line no-console
    console.log(
      `paved transcript (${TRANSCRIPT}):\n\n${transcript.join('\n')}`,
    );
    await backend?.stop();
    await operator?.stop();
    await knex?.destroy();
    for (const dir of Object.values(homes)) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses commands before sign-in, with exit 3 and what to do', async () => {
    const result = await paved('nobody', ['apps']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('Not signed in');
    expect(result.stderr).toContain('paved login');
  });

  it('signs in with a token from stdin, kept in a file only the user reads', async () => {
    const result = await paved('alice', ['login', '--token', '-'], {
      input: `${tokenOf(ALICE)}\n`,
      shown: 'echo "$ALICE_TOKEN" | paved login --token -',
    });
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`as ${ALICE}`);
    expect(result.stdout).toContain(TENANT);
    const file = path.join(homes.alice, 'config', 'paved', 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({
      url: backendUrl,
      auth: { method: 'token', identity: ALICE },
    });
    const bob = await paved('bob', ['login', '--token', '-'], {
      input: tokenOf(BOB),
      shown: 'echo "$BOB_TOKEN" | paved login --token -',
    });
    expect(bob.code).toBe(0);
    const who = await paved('alice', ['whoami']);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain(ALICE);
  });

  it('gives usage errors for bad input, and changes nothing', async () => {
    const cases: Array<[string[], string]> = [
      [['deploy', EXAMPLE_APP_IMAGE, '--port', '8080'], '--name'],
      [['deploy', EXAMPLE_APP_IMAGE, '--name', 'web'], '--port'],
      [['deploy', EXAMPLE_APP_IMAGE, '-n', 'web', '-p', '99999'], '--port'],
      [
        ['deploy', EXAMPLE_APP_IMAGE, '-n', 'web', '-p', '80', '--bogus'],
        'bogus',
      ],
      [
        [
          'deploy',
          EXAMPLE_APP_IMAGE,
          '-n',
          'web',
          '-p',
          '80',
          '-e',
          'NOEQUALS',
        ],
        'NAME=VALUE',
      ],
      [['deploy', 'Not An Image!', '-n', 'web', '-p', '8080'], 'image'],
      [['deploy', EXAMPLE_APP_IMAGE, '-n', 'Bad_Name', '-p', '8080'], 'name'],
      [['status'], 'missing APP'],
      [['launch'], 'Unknown command'],
    ];
    const results = [];
    for (const [args] of cases) {
      results.push(await paved('alice', [...args, '--tenant', TENANT]));
    }
    expect(
      results.map((r, i) => [
        cases[i][0].join(' '),
        r.code,
        r.stderr.toLowerCase().includes(cases[i][1].toLowerCase()),
      ]),
    ).toEqual(cases.map(([args]) => [args.join(' '), 2, true]));
    const apps = await paved('alice', ['apps', '--json']);
    expect(apps.code).toBe(0);
    expect(JSON.parse(apps.stdout)).toEqual([]);
  });

  let deployed: AppView;

  it('deploys the example image and prints the URL once it answers', async () => {
    const started = Date.now();
    const result = await paved('alice', [
      'deploy',
      EXAMPLE_APP_IMAGE,
      '--name',
      'web',
      '--port',
      '8080',
      '--tenant',
      TENANT,
      '--env',
      'GREETING=from the CLI',
      '--secret',
      'API_KEY=s3cret',
    ]);
    const elapsed = Date.now() - started;
    // The figure for the closing note.
    // eslint-disable-next-line no-console
    console.log(
      `time from \`paved deploy\` to the URL answering: ${(
        elapsed / 1000
      ).toFixed(1)} s (the process's own run; it exits once the URL answered)`,
    );
    expect(result.stderr).toContain('Creating cli-a/web');
    expect(result.stderr).toMatch(/phase (Pending|Deploying)/);
    expect(result.stderr).toMatch(/answers \(HTTP 200\)/);
    const url = `${appUrl()}:${ingressPort}`;
    expect(result.stdout).toContain(`live at ${url}`);
    expect(result.code).toBe(0);
    const page = await get();
    expect(page.status).toBe(200);
    expect(page.body).toContain('GREETING=from the CLI');

    const json = await paved('alice', ['apps', '--json']);
    expect(json.code).toBe(0);
    const apps: AppView[] = JSON.parse(json.stdout);
    expect(apps).toHaveLength(1);
    deployed = apps[0];
    expect(deployed).toMatchObject({
      ref: 'cli-a/web',
      image: EXAMPLE_APP_IMAGE,
      port: 8080,
      revision: 1,
      status: { phase: 'Ready', url: appUrl() },
    });
    expect(deployed.env).toEqual([
      { name: 'GREETING', value: 'from the CLI', secret: false },
      { name: 'API_KEY', value: '********', secret: true },
    ]);
    const table = await paved('alice', ['apps']);
    expect(table.stdout).toMatch(/cli-a\/web\s+Ready\s+1\s+http:\/\/web/);
  });

  it('shows the status, the env and the tenants', async () => {
    const status = await paved('alice', ['status', 'web', '--tenant', TENANT]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Phase:');
    expect(status.stdout).toMatch(/Phase:\s+Ready/);
    expect(status.stdout).toContain(`${appUrl()}:${ingressPort}`);
    expect(status.stdout).toContain('API_KEY=******** (secret)');
    const env = await paved('alice', ['env', 'web', '-t', TENANT]);
    expect(env.stdout).toMatch(/GREETING\s+from the CLI/);
    // The audit log says the change came from the CLI.
    const audit = await alice.listAudit(TENANT, 'web');
    expect(audit.items.map(e => [e.action, e.actor, e.via])).toEqual([
      ['app.deploy', ALICE, 'cli'],
    ]);
    const tenants = await paved('alice', ['tenants']);
    expect(tenants.code).toBe(0);
    expect(tenants.stdout).toMatch(/cli-a\s+CLI team\s+group:default\/team-a/);
  });

  it("follows the app's logs, and prints them", async () => {
    const follow = pavedRunning('alice', ['logs', 'web', '-t', TENANT, '-f']);
    try {
      await eventually(
        'the follow stream open',
        async () =>
          /listening on|No instance/.test(
            follow.out.stdout + follow.out.stderr,
          ),
        60_000,
      );
      const sent = Date.now();
      expect((await get(`${appUrl()}/healthz`)).status).toBe(200);
      await eventually(
        'the request line followed',
        async () => follow.out.stdout.includes('GET /healthz 200'),
        60_000,
      );
      // eslint-disable-next-line no-console
      console.log(
        `paved logs -f: the line of a request seen ${
          Date.now() - sent
        } ms after the request was sent (wake-up included)`,
      );
    } finally {
      follow.child.kill('SIGINT');
    }
    const stopped = await follow.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(
      /^\S+Z web-0000\d\/\w+ {2}GET \/healthz 200/m,
    );

    // Not following: the tail of the instance that just answered (asked
    // again if it went between the request and the read: idle instances
    // go within seconds here).
    const attempts: Result[] = [];
    const printed = await eventually(
      'the request line in `paved logs`',
      async () => {
        await get(`${appUrl()}/healthz`);
        const logs = await paved('alice', ['logs', 'web', '-t', TENANT]);
        attempts.push(logs);
        return /GET \/healthz 200/.test(logs.stdout) && logs;
      },
      60_000,
    ).catch(error => {
      throw new Error(
        `${error}; the attempts: ${JSON.stringify(attempts, null, 1)}`,
      );
    });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/listening on :8080$/m);
    const json = await paved('alice', [
      'logs',
      'web',
      '-t',
      TENANT,
      '--tail',
      '1',
      '--json',
    ]);
    expect(json.code).toBe(0);
    const events = json.stdout
      .trim()
      .split('\n')
      .map(line => JSON.parse(line));
    expect(events[events.length - 1]).toEqual({ type: 'end' });
    for (const event of events.filter(e => e.type === 'line')) {
      expect(event.line.revision).toMatch(/^web-0000\d$/);
      // Knative's queue-proxy only with --system.
      expect(event.line.container).not.toBe('queue-proxy');
    }

    const bob = await paved('bob', ['logs', 'web', '-t', TENANT]);
    expect(bob.code).toBe(4);
  });

  it('sets and unsets env vars, each a revision that answers', async () => {
    const set = await paved('alice', [
      'env',
      'set',
      'web',
      'GREETING=changed',
      '--tenant',
      TENANT,
    ]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('revision 2 is live');
    expect((await get()).body).toContain('GREETING=changed');

    const unset = await paved('alice', [
      'env',
      'unset',
      'web',
      'GREETING',
      '--tenant',
      TENANT,
    ]);
    expect(unset.code).toBe(0);
    expect(unset.stdout).toContain('revision 3 is live');
    expect((await get()).body).toContain('GREETING=world');

    const missing = await paved('alice', [
      'env',
      'unset',
      'web',
      'GREETING',
      '--tenant',
      TENANT,
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('has no env var GREETING');
  });

  it('rolls back to the revision before', async () => {
    const revisions = await paved('alice', ['revisions', 'web', '-t', TENANT]);
    expect(revisions.code).toBe(0);
    expect(revisions.stdout).toMatch(/^3\*/m);
    const result = await paved('alice', ['rollback', 'web', '-t', TENANT]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Rolled back to revision 2');
    expect(result.stdout).toContain('revision 4 is live');
    expect((await get()).body).toContain('GREETING=changed');
  });

  it('pauses and resumes', async () => {
    const paused = await paved('alice', ['pause', 'web', '-t', TENANT]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain('cli-a/web is paused');
    const status = await paved('alice', ['status', 'web', '-t', TENANT]);
    expect(status.stdout).toMatch(/Phase:\s+Paused/);
    const off = await get(appUrl(), false);
    expect(off.status).toBe(404);

    // Knative deletes the paused Service's Configuration, Route and
    // Revisions in the background; a Service made again under the same
    // name before they are gone can wait on Knative for minutes (see the
    // operator's pause test), so resume once they are.
    const kube = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    try {
      for (const plural of ['configurations', 'routes', 'revisions']) {
        await eventually(`the paused app's ${plural} gone`, async () => {
          const left = await kube.list(
            { ...REVISIONS, plural, kind: plural },
            {
              namespace: `tenant-${TENANT}`,
              labelSelector: 'serving.knative.dev/service=web',
            },
          );
          return left.items.length === 0;
        });
      }
    } finally {
      kube.close();
    }

    const resumed = await paved('alice', ['resume', 'web', '-t', TENANT]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('is live at');
    expect((await get()).status).toBe(200);
  });

  it('adds and removes a custom domain', async () => {
    const domain = 'web.cli-e2e.test';
    const bad = await paved('alice', [
      'domains',
      'add',
      'web',
      'not a domain',
      '-t',
      TENANT,
    ]);
    expect(bad.code).toBe(2);
    const added = await paved('alice', [
      'domains',
      'add',
      'web',
      domain,
      '-t',
      TENANT,
    ]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`answers at http://${domain}`);
    // Through the real ingress, with the domain as the Host.
    const page = await get(`http://${domain}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("This is Paved's example app.");
    const list = await paved('alice', ['domains', 'web', '-t', TENANT]);
    expect(list.stdout).toMatch(
      new RegExp(`${domain.replace(/\./g, '\\.')}\\s+claimed\\s+yes\\s+none`),
    );
    const removed = await paved('alice', [
      'domains',
      'remove',
      'web',
      domain,
      '-t',
      TENANT,
    ]);
    expect(removed.code).toBe(0);
    const again = await paved('alice', [
      'domains',
      'remove',
      'web',
      domain,
      '-t',
      TENANT,
    ]);
    expect(again.code).toBe(4);

    // HTTPS with a certificate the owner brings (self-signed here).
    const secure = 'secure.cli-e2e.test';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-cli-tls-'));
    const crt = path.join(dir, 'tls.crt');
    const key = path.join(dir, 'tls.key');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          `/CN=${secure}`,
          '-addext',
          `subjectAltName=DNS:${secure}`,
          '-keyout',
          key,
          '-out',
          crt,
        ],
        { stdio: 'ignore' },
      );
      const onlyOne = await paved('alice', [
        'domains',
        'add',
        'web',
        secure,
        '--certificate',
        crt,
        '-t',
        TENANT,
      ]);
      expect(onlyOne.code).toBe(2);
      const withTls = await paved('alice', [
        'domains',
        'add',
        'web',
        secure,
        '--certificate',
        crt,
        '--key',
        key,
        '-t',
        TENANT,
      ]);
      expect(withTls.code).toBe(0);
      expect(withTls.stdout).toContain(`answers at https://${secure}`);
      // The ingress takes up the certificate a moment after the API
      // says TLS is ready: retried until it serves it.
      const answer = await eventually(
        `https://${secure} with its certificate`,
        () =>
          new Promise<{ status?: number; body: string }>((resolve, reject) => {
            const request = https.get(
              {
                host: '127.0.0.1',
                port: cluster().dataPlane!.ingressTlsPort,
                path: '/',
                servername: secure,
                headers: { host: secure },
                ca: fs.readFileSync(crt),
              },
              res => {
                let body = '';
                res.on('data', d => (body += d));
                res.on('end', () =>
                  res.statusCode === 200
                    ? resolve({ status: res.statusCode, body })
                    : reject(new Error(`HTTP ${res.statusCode}: ${body}`)),
                );
              },
            );
            request.on('error', reject);
          }),
        60_000,
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toContain("This is Paved's example app.");
      const listed = await paved('alice', ['domains', 'web', '-t', TENANT]);
      const status = await paved('alice', ['status', 'web', '-t', TENANT]);
      expect(status.stdout).toContain(
        `https://${secure} (claimed, routed, TLS ready)`,
      );
      expect(listed.stdout).toMatch(
        /secure\.cli-e2e\.test\s+claimed\s+yes\s+ready/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers another team's user with not found, exit 4", async () => {
    const before = await paved('alice', [
      'status',
      'web',
      '-t',
      TENANT,
      '--json',
    ]);
    const { revision } = JSON.parse(before.stdout);
    const status = await paved('bob', ['status', 'web', '--tenant', TENANT]);
    expect(status.code).toBe(4);
    expect(status.stderr.toLowerCase()).toContain('not found');
    const write = await paved('bob', [
      'deploy',
      EXAMPLE_APP_IMAGE,
      '-n',
      'web',
      '-p',
      '8080',
      '-t',
      TENANT,
    ]);
    expect(write.code).toBe(4);
    const bobApps = await paved('bob', ['apps', '--json']);
    expect(JSON.parse(bobApps.stdout)).toEqual([]);
    // Nothing Bob ran changed the app.
    const after = await paved('alice', [
      'status',
      'web',
      '-t',
      TENANT,
      '--json',
    ]);
    expect(JSON.parse(after.stdout)).toMatchObject({ revision });
  });

  it('deletes the app', async () => {
    const refused = await paved('alice', ['delete', 'web', '-t', TENANT]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const result = await paved('alice', [
      'delete',
      'web',
      '-t',
      TENANT,
      '--yes',
      '--wait',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Deleted cli-a/web');
    const gone = await paved('alice', ['status', 'web', '-t', TENANT]);
    expect(gone.code).toBe(4);
    const off = await get(appUrl(), false);
    expect(off.status).toBe(404);
  });
});
