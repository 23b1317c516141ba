/**
 * The command line alone: parsing, usage errors (exit 2, before anything
 * is sent), the config file, and the small pure helpers. The end-to-end
 * suite (cli.test.ts) runs the binary against the real stack.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { COMMANDS, helpText, parseCommandLine } from './args';
import { tokenIdentity } from './auth';
import { parseDuration, parseEnvPairs } from './commands';
import { configPath, readConfig, writeConfig } from './config';
import { UsageError } from './errors';
import { run } from './main';
import { displayUrl, parseIngress } from './probe';
import { instanceLabel } from './logs';
import { appText, appsTable, envText, table } from './format';

function io(env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
      readStdin: async () => '',
      env,
    },
  };
}

describe('parseCommandLine', () => {
  it('finds commands and subcommands, with options anywhere', () => {
    const deploy = parseCommandLine([
      '--url',
      'http://x:7007',
      'deploy',
      'img:1',
      '-n',
      'web',
      '--port=8080',
      '-e',
      'A=1',
      '--env',
      'B=2',
      '--json',
    ]);
    expect(deploy.command?.name).toBe('deploy');
    expect(deploy.positionals).toEqual(['img:1']);
    expect(deploy.values).toMatchObject({
      url: 'http://x:7007',
      name: 'web',
      port: '8080',
      env: ['A=1', 'B=2'],
      json: true,
    });
    const set = parseCommandLine(['env', 'set', 'web', 'A=1', '-s']);
    expect(set.command?.name).toBe('env set');
    expect(set.positionals).toEqual(['web', 'A=1']);
    expect(set.values.secret).toBe(true);
    expect(parseCommandLine(['env', 'web']).command?.name).toBe('env');
    expect(
      parseCommandLine(['domains', 'remove', 'web', 'a.example.com']).command
        ?.name,
    ).toBe('domains remove');
    expect(parseCommandLine(['logs', 'web', '-f']).values.follow).toBe(true);
  });

  it('refuses unknown commands and options, and wrong argument counts', () => {
    const refusal = (argv: string[]) => {
      try {
        parseCommandLine(argv);
      } catch (error) {
        return error instanceof UsageError
          ? error.message
          : `not usage: ${error}`;
      }
      return 'accepted';
    };
    expect(refusal(['deplo'])).toBe('Unknown command "deplo"');
    expect(refusal(['deploy', 'img', '--nmae', 'x'])).toBe(
      "paved deploy: unknown option '--nmae'",
    );
    expect(refusal(['deploy'])).toBe('paved deploy: missing IMAGE');
    expect(refusal(['status', 'a', 'b'])).toBe(
      'paved status: unexpected argument "b"',
    );
    expect(refusal(['env', 'set', 'web'])).toBe('paved env set: missing K=V…');
    expect(refusal(['apps', '--name'])).toBe(
      "paved apps: unknown option '--name'",
    );
    expect(refusal(['deploy', 'img', '--name'])).toMatch(
      /^paved deploy: Option '-n, --name <value>' argument missing/,
    );
  });

  it('has help for every command', () => {
    for (const command of COMMANDS) {
      const text = helpText(command);
      expect(text).toContain(`Usage: paved ${command.name}`);
      expect(text).toContain('Examples:');
    }
    expect(helpText()).toContain('Exit codes: 0 done');
    expect(parseCommandLine(['help', 'deploy']).command?.name).toBe('deploy');
  });
});

describe('run', () => {
  it('answers usage errors with exit 2, and --json errors as JSON', async () => {
    const plain = io();
    expect(await run(['deploy', 'img'], plain.io)).toBe(2);
    expect(plain.out.stderr).toBe(
      'Error: paved deploy: give the app a name with --name\nUsage: paved deploy IMAGE --name N --port P [--tenant T]\n',
    );
    const json = io();
    expect(await run(['status', '--json'], json.io)).toBe(2);
    expect(JSON.parse(json.out.stderr)).toEqual({
      error: {
        message: 'paved status: missing APP',
        hint: 'Usage: paved status APP [options]',
      },
      exitCode: 2,
    });
    const name = io();
    expect(await run(['status', 'Bad_Name'], name.io)).toBe(2);
    expect(name.out.stderr).toContain(
      'Error: APP: App name "Bad_Name" has uppercase letters; use lowercase (bad_name)',
    );
    const url = io();
    expect(await run(['apps', '--url', 'localhost:7007'], url.io)).toBe(2);
    expect(url.out.stderr).toContain('must be http:// or https://');
  });

  it('says "not signed in" with exit 3 before sending anything', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-cli-unit-'));
    try {
      const { io: given, out } = io({
        HOME: home,
        PAVED_URL: 'http://127.0.0.1:1',
      });
      expect(await run(['apps'], given)).toBe(3);
      expect(out.stderr).toContain('Not signed in to http://127.0.0.1:1');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('says where the backend is not, with exit 1', async () => {
    // A port nothing listens on: one the system just gave out and took back.
    const server = net.createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise(resolve => server.close(resolve));
    const { io: given, out } = io({
      HOME: '/nonexistent',
      PAVED_URL: `http://127.0.0.1:${port}`,
      PAVED_TOKEN: 't',
    });
    expect(await run(['tenants'], given)).toBe(1);
    expect(out.stderr).toContain(
      `Cannot reach the Paved backend at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });
});

describe('config', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config, with mode 0600', () => {
    expect(configPath({ HOME: '/home/u' })).toBe(
      '/home/u/.config/paved/config.json',
    );
    expect(configPath({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' })).toBe(
      '/x/paved/config.json',
    );
    // A relative XDG_CONFIG_HOME is ignored, as the spec says.
    expect(configPath({ HOME: '/home/u', XDG_CONFIG_HOME: 'rel' })).toBe(
      '/home/u/.config/paved/config.json',
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-cli-config-'));
    try {
      const env = { XDG_CONFIG_HOME: dir };
      expect(readConfig(env)).toEqual({});
      writeConfig(env, {
        url: 'http://x',
        auth: { method: 'token', token: 't' },
      });
      expect(fs.statSync(configPath(env)).mode & 0o777).toBe(0o600);
      expect(readConfig(env)).toEqual({
        url: 'http://x',
        auth: { method: 'token', token: 't' },
      });
      fs.writeFileSync(configPath(env), '{oops');
      expect(() => readConfig(env)).toThrow('is not valid JSON');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('helpers', () => {
  it('parses env pairs, durations and ingress addresses', () => {
    expect(parseEnvPairs(['A=1', 'B=x=y', 'C='], true)).toEqual([
      { name: 'A', value: '1', secret: true },
      { name: 'B', value: 'x=y', secret: true },
      { name: 'C', value: '', secret: true },
    ]);
    expect(() => parseEnvPairs(['=1'], false)).toThrow('is not NAME=VALUE');
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('2h')).toBe(7200);
    expect(() => parseDuration('soon')).toThrow('--since must be a duration');
    expect(parseIngress('127.0.0.1:8080')).toEqual({
      host: '127.0.0.1',
      port: 8080,
    });
    expect(parseIngress('8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseIngress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseIngress('host:99999')).toBeUndefined();
    expect(parseIngress('nope')).toBeUndefined();
  });

  it('prints local URLs with the ingress port, others as they are', () => {
    const local = { host: '127.0.0.1', port: 8080 };
    expect(displayUrl('http://web.tenant-a.localhost', local)).toBe(
      'http://web.tenant-a.localhost:8080',
    );
    expect(
      displayUrl('http://web.tenant-a.localhost', {
        host: '127.0.0.1',
        port: 80,
      }),
    ).toBe('http://web.tenant-a.localhost');
    expect(displayUrl('https://web.example.com', local)).toBe(
      'https://web.example.com',
    );
    expect(displayUrl('http://web.tenant-a.localhost')).toBe(
      'http://web.tenant-a.localhost',
    );
  });

  it('labels log lines with the revision and the pod suffix', () => {
    expect(
      instanceLabel('web-00002-deployment-6c75584855-4njp7', 'web-00002'),
    ).toBe('web-00002/4njp7');
    expect(instanceLabel('other-pod', 'web-00002')).toBe('other-pod');
  });

  it('reads who a token is', () => {
    expect(tokenIdentity('mock-user-token:{"sub":"user:default/alice"}')).toBe(
      'user:default/alice',
    );
    const payload = Buffer.from(
      JSON.stringify({ sub: 'user:development/guest' }),
    ).toString('base64url');
    expect(tokenIdentity(`eyJhbGciOiJFUzI1NiJ9.${payload}.sig`)).toBe(
      'user:development/guest',
    );
    expect(tokenIdentity('a-static-service-token')).toBeUndefined();
  });
});

describe('format', () => {
  const app: any = {
    tenant: 'shop',
    name: 'web',
    ref: 'shop/web',
    image: 'ghcr.io/acme/web:1.4.2',
    port: 3000,
    env: [
      { name: 'LOG_LEVEL', value: 'debug', secret: false },
      { name: 'API_KEY', value: '********', secret: true },
    ],
    scaling: { minInstances: 0, maxInstances: 10, targetConcurrency: 100 },
    resources: { cpu: '250m', memory: '256Mi' },
    domains: [],
    paused: false,
    revision: 3,
    updatedBy: 'user:default/alice',
    updatedAt: '2026-12-01T20:00:00.000Z',
    sync: { generation: 3, appliedGeneration: 3, pending: false },
    status: {
      known: true,
      current: true,
      phase: 'Failed',
      message: 'The image ghcr.io/acme/web:1.4.2 cannot be pulled',
      instances: { desired: 1, ready: 0 },
    },
  };

  it('aligns tables, with - for empty cells', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['x', ''],
          ['yyy', 'z'],
        ],
      ),
    ).toBe('A    LONGER\nx    -\nyyy  z\n');
    expect(appsTable([app])).toBe(
      'APP       PHASE   REVISION  URL  IMAGE\nshop/web  Failed  3         -    ghcr.io/acme/web:1.4.2\n',
    );
    expect(envText(app)).toBe(
      'NAME       VALUE     SECRET\nLOG_LEVEL  debug     no\nAPI_KEY    ********  yes\n',
    );
  });

  it("shows an app's status with what to fix", () => {
    expect(appText(app, undefined)).toBe(
      [
        'shop/web',
        '  Phase:     Failed',
        '  Image:     ghcr.io/acme/web:1.4.2',
        '  Port:      3000',
        '  Revision:  3 (by user:default/alice, 2026-12-01T20:00:00.000Z)',
        '  Instances: 0 ready (the autoscaler wants 1)',
        '  Scaling:   0 to 10, 100 requests each',
        '  Resources: cpu 250m, memory 256Mi',
        '  Env:       LOG_LEVEL=debug, API_KEY=******** (secret)',
        '  Message:   The image ghcr.io/acme/web:1.4.2 cannot be pulled',
        '',
      ].join('\n'),
    );
  });
});
