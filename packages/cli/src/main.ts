/**
 * `paved`: parses the command line, finds the backend and the sign-in,
 * runs the command, and turns every failure into a message (what went
 * wrong, what to do) and an exit code.
 */
import readline from 'node:readline';
import {
  PavedApiClient,
  appNameSchema,
  describeIssues,
  tenantNameSchema,
} from '@paved/plugin-paved-common';
import { COMMANDS, helpText, parseCommandLine } from './args';
import { currentSignIn } from './auth';
import { Context, HANDLERS, Io } from './commands';
import { DEFAULT_URL, StoredConfig, readConfig, writeConfig } from './config';
import { CliError, EXIT, ExitCode, UsageError } from './errors';
import { parseIngress } from './probe';
import { logs } from './logs';
import { domainsAdd, domainsList, domainsRemove } from './domains';

const VERSION = '0.1.0';

HANDLERS.logs = logs;
HANDLERS.domains = domainsList;
HANDLERS['domains add'] = domainsAdd;
HANDLERS['domains remove'] = domainsRemove;

function normalizeUrl(raw: string, from: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `${from} "${raw}" is not a URL`,
      'Give the backend like http://localhost:7007 or https://backstage.example.com.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${from} "${raw}" must be http:// or https://`);
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * App and tenant names checked here, with the API's own rules, so that a
 * typo is a usage error before anything is sent.
 */
function checkNames(
  what: string,
  positionals: string[],
  values: Record<string, unknown>,
) {
  const check = (
    schema: typeof appNameSchema,
    value: unknown,
    option: string,
  ) => {
    if (typeof value !== 'string') return;
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new UsageError(`${option}: ${describeIssues(result.error)}`);
    }
  };
  if (what.startsWith('APP')) check(appNameSchema, positionals[0], 'APP');
  check(appNameSchema, values.name, '--name');
  check(tenantNameSchema, values.tenant, '--tenant');
}

/** The process's stdin, stdout and stderr as `paved` uses them. */
export function processIo(): Io {
  return {
    stdout: text => process.stdout.write(text),
    stderr: text => process.stderr.write(text),
    env: process.env,
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    ask: process.stdin.isTTY
      ? question =>
          new Promise(resolve => {
            const rl = readline.createInterface({
              input: process.stdin,
              output: process.stderr,
            });
            rl.question(question, answer => {
              rl.close();
              resolve(answer);
            });
          })
      : undefined,
  };
}

/** Runs `paved` with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<ExitCode> {
  let json = argv.includes('--json');
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.version) {
      io.stdout(`paved ${VERSION}\n`);
      return EXIT.ok;
    }
    if (parsed.help || !parsed.command) {
      io.stdout(helpText(parsed.command));
      return EXIT.ok;
    }
    const { command, values, positionals } = parsed;
    json = values.json === true;
    checkNames(command.positionals.what, positionals, values);
    let config: StoredConfig = readConfig(io.env);
    const givenUrl = typeof values.url === 'string' ? values.url : undefined;
    let url = config.url ?? DEFAULT_URL;
    if (givenUrl) url = normalizeUrl(givenUrl, '--url');
    else if (io.env.PAVED_URL)
      url = normalizeUrl(io.env.PAVED_URL, 'PAVED_URL');
    const ingressRaw =
      typeof values.ingress === 'string'
        ? values.ingress
        : io.env.PAVED_INGRESS || undefined;
    const ingress = ingressRaw ? parseIngress(ingressRaw) : undefined;
    if (ingressRaw && !ingress) {
      throw new UsageError(
        `${
          typeof values.ingress === 'string' ? '--ingress' : 'PAVED_INGRESS'
        } "${ingressRaw}" is not HOST:PORT`,
        'E.g. 127.0.0.1:8080, or just the port.',
      );
    }
    const saveConfig = (next: StoredConfig) => {
      writeConfig(io.env, next);
      config = next;
    };
    const signIn = () =>
      currentSignIn({ env: io.env, config, url, save: saveConfig });
    const ctx: Context = {
      io,
      values,
      positionals,
      json,
      url,
      get config() {
        return config;
      },
      saveConfig,
      signIn,
      ingress,
      sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
      async client() {
        const current = await signIn();
        if (!current) {
          throw new CliError(
            `Not signed in to ${url}`,
            EXIT.auth,
            'Sign in with `paved login --guest` (local stack) or `paved login --token -` (a service token), or set PAVED_TOKEN.',
          );
        }
        return new PavedApiClient({
          baseUrl: `${url}/api/paved`,
          token: current.token,
          client: 'cli',
        });
      },
    };
    await HANDLERS[command.name](ctx);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) {
      if (json) {
        io.stderr(
          `${JSON.stringify({
            error: { message: error.message, hint: error.hint },
            exitCode: error.exitCode,
          })}\n`,
        );
      } else {
        io.stderr(
          `Error: ${error.message}\n${error.hint ? `${error.hint}\n` : ''}`,
        );
      }
      return error.exitCode;
    }
    io.stderr(
      `Error: ${
        (error as Error)?.stack ?? String(error)
      }\nThis is a bug in paved; please report it.\n`,
    );
    return EXIT.failure;
  }
}

export { COMMANDS };
