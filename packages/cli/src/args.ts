/**
 * The command line of `paved`: every command with its options, the help
 * text made from them, and the parsing (node:util parseArgs) that turns
 * bad input into a UsageError naming what to fix.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's placeholder in the help, e.g. `K=V`. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** `deploy`, or `env set` for a command with a subcommand. */
  name: string;
  /** The positional arguments in the usage line, e.g. `IMAGE`. */
  usage: string;
  summary: string;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number; what: string };
  options: Record<string, OptionSpec>;
  examples: string[];
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: {
    type: 'string',
    value: 'URL',
    description:
      'The Paved backend (default: PAVED_URL, then the signed-in one, then http://localhost:7007)',
  },
  json: {
    type: 'boolean',
    description: 'Print JSON (the API objects) instead of text, for scripts',
  },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

const TENANT: OptionSpec = {
  type: 'string',
  short: 't',
  value: 'T',
  description:
    'The tenant (default: PAVED_TENANT, then `paved login --tenant`, then your only tenant)',
};
const TIMEOUT: OptionSpec = {
  type: 'string',
  value: 'SECONDS',
  description: 'How long to wait (default 300)',
};
const INGRESS: OptionSpec = {
  type: 'string',
  value: 'HOST:PORT',
  description:
    "Where to send requests for the app's URL (default: PAVED_INGRESS; *.localhost URLs go to 127.0.0.1)",
};
const app = (what = 'APP') => ({ min: 1, max: 1, what });
/** The options of a change that rolls out: wait for it, or not. */
const WAIT: Record<string, OptionSpec> = {
  'no-wait': {
    type: 'boolean',
    description: 'Return once the change is saved; do not wait for the rollout',
  },
  timeout: TIMEOUT,
  ingress: INGRESS,
};

export const COMMANDS: CommandSpec[] = [
  {
    name: 'login',
    usage: '',
    summary: 'Sign in: with a token (CI, any Backstage token) or as the guest',
    positionals: { min: 0, max: 0, what: '' },
    options: {
      token: {
        type: 'string',
        value: 'TOKEN',
        description:
          'A Backstage token: a static service token (backend.auth.externalAccess) or a user token; `-` reads it from stdin',
      },
      guest: {
        type: 'boolean',
        description:
          "Sign in as the guest user (the local stack's guest sign-in provider)",
      },
      tenant: {
        type: 'string',
        short: 't',
        value: 'T',
        description: 'The tenant commands use by default',
      },
    },
    examples: [
      'paved login --guest',
      'echo "$PAVED_CI_TOKEN" | paved login --url https://backstage.example.com --token -',
    ],
  },
  {
    name: 'logout',
    usage: '',
    summary: 'Forget the saved sign-in',
    positionals: { min: 0, max: 0, what: '' },
    options: {},
    examples: ['paved logout'],
  },
  {
    name: 'whoami',
    usage: '',
    summary: 'Show the backend and who you are signed in as',
    positionals: { min: 0, max: 0, what: '' },
    options: {},
    examples: ['paved whoami'],
  },
  {
    name: 'deploy',
    usage: 'IMAGE',
    summary:
      'Deploy an image (new app or new version), show the rollout, print the URL once it answers',
    positionals: { min: 1, max: 1, what: 'IMAGE' },
    options: {
      name: {
        type: 'string',
        short: 'n',
        value: 'N',
        description: 'The app name (required)',
      },
      port: {
        type: 'string',
        short: 'p',
        value: 'P',
        description:
          'The port the container listens on (required for a new app)',
      },
      tenant: TENANT,
      env: {
        type: 'string',
        short: 'e',
        multiple: true,
        value: 'K=V',
        description:
          'An env var (repeatable); an existing app keeps the vars not named',
      },
      secret: {
        type: 'string',
        short: 's',
        multiple: true,
        value: 'K=V',
        description:
          'A secret env var (repeatable): stored in a Kubernetes Secret, shown masked',
      },
      'min-instances': {
        type: 'string',
        value: 'N',
        description: 'Instances kept when idle (0: scale to zero)',
      },
      'max-instances': {
        type: 'string',
        value: 'N',
        description: 'Most instances under load',
      },
      'no-wait': {
        type: 'boolean',
        description: 'Return once the change is saved; do not wait',
      },
      path: {
        type: 'string',
        value: 'PATH',
        description: 'The path to request to see the app answer (default /)',
      },
      timeout: TIMEOUT,
      ingress: INGRESS,
    },
    examples: [
      'paved deploy registry.localhost/paved/hello:1.0.0 --name hello --port 8080',
      'paved deploy ghcr.io/acme/web:1.4.2 -n web -p 3000 -t shop -e LOG_LEVEL=debug -s API_KEY=xyz',
    ],
  },
  {
    name: 'apps',
    usage: '',
    summary: 'List the apps you can see (of one tenant with --tenant)',
    positionals: { min: 0, max: 0, what: '' },
    options: { tenant: TENANT },
    examples: ['paved apps', 'paved apps --tenant team-a --json'],
  },
  {
    name: 'status',
    usage: 'APP',
    summary:
      'Show an app: phase, URL, instances, image, env, revisions, what to fix',
    positionals: app(),
    options: { tenant: TENANT, ingress: INGRESS },
    examples: ['paved status hello'],
  },
  {
    name: 'logs',
    usage: 'APP',
    summary: "Print an app's container logs; -f follows them",
    positionals: app(),
    options: {
      tenant: TENANT,
      follow: {
        type: 'boolean',
        short: 'f',
        description: 'Keep printing lines as they come (Ctrl-C stops)',
      },
      tail: {
        type: 'string',
        value: 'N',
        description: 'Lines from the end of each instance (default 100)',
      },
      since: {
        type: 'string',
        value: 'DURATION',
        description: 'Only lines of the last 30s, 10m, 2h, 1d',
      },
      system: {
        type: 'boolean',
        description: "Include Knative's queue-proxy lines",
      },
    },
    examples: ['paved logs hello -f', 'paved logs hello --since 10m --json'],
  },
  {
    name: 'env',
    usage: 'APP',
    summary: "List an app's env vars (secret values masked)",
    positionals: app(),
    options: { tenant: TENANT },
    examples: ['paved env hello'],
  },
  {
    name: 'env set',
    usage: 'APP K=V…',
    summary: 'Set env vars (a new revision)',
    positionals: { min: 2, max: Infinity, what: 'APP K=V…' },
    options: {
      ...WAIT,
      tenant: TENANT,
      secret: {
        type: 'boolean',
        short: 's',
        description: 'Store the values as secrets',
      },
    },
    examples: [
      'paved env set hello GREETING=hi LOG_LEVEL=debug',
      'paved env set hello --secret API_KEY=xyz',
    ],
  },
  {
    name: 'env unset',
    usage: 'APP K…',
    summary: 'Remove env vars (a new revision)',
    positionals: { min: 2, max: Infinity, what: 'APP K…' },
    options: {
      ...WAIT,
      tenant: TENANT,
    },
    examples: ['paved env unset hello GREETING'],
  },
  {
    name: 'pause',
    usage: 'APP',
    summary: 'Stop an app (no instances, URL off) and keep its config',
    positionals: app(),
    options: {
      ...WAIT,
      tenant: TENANT,
    },
    examples: ['paved pause hello'],
  },
  {
    name: 'resume',
    usage: 'APP',
    summary: 'Start a paused app again',
    positionals: app(),
    options: {
      ...WAIT,
      tenant: TENANT,
    },
    examples: ['paved resume hello'],
  },
  {
    name: 'revisions',
    usage: 'APP',
    summary: "List an app's config revisions (what rollback goes back to)",
    positionals: app(),
    options: { tenant: TENANT },
    examples: ['paved revisions hello'],
  },
  {
    name: 'rollback',
    usage: 'APP',
    summary:
      "Go back to an earlier revision's config (default: the one before the current)",
    positionals: app(),
    options: {
      ...WAIT,
      tenant: TENANT,
      revision: {
        type: 'string',
        short: 'r',
        value: 'N',
        description:
          'The revision to go back to (`paved revisions` lists them)',
      },
    },
    examples: ['paved rollback hello', 'paved rollback hello --revision 2'],
  },
  {
    name: 'domains',
    usage: 'APP',
    summary: "List an app's custom domains",
    positionals: app(),
    options: { tenant: TENANT },
    examples: ['paved domains hello'],
  },
  {
    name: 'domains add',
    usage: 'APP DOMAIN',
    summary:
      'Serve the app on a domain of yours too (claimed for your tenant); HTTPS with --certificate and --key',
    positionals: { min: 2, max: 2, what: 'APP DOMAIN' },
    options: {
      tenant: TENANT,
      certificate: {
        type: 'string',
        value: 'FILE',
        description: 'The PEM certificate chain for the domain, leaf first',
      },
      key: {
        type: 'string',
        value: 'FILE',
        description: "The certificate's PEM private key",
      },
      'no-wait': WAIT['no-wait'],
      timeout: TIMEOUT,
    },
    examples: [
      'paved domains add hello hello.example.com',
      'paved domains add hello hello.example.com --certificate tls.crt --key tls.key',
    ],
  },
  {
    name: 'domains remove',
    usage: 'APP DOMAIN',
    summary:
      'Stop serving the app on a domain (releases its claim and certificate)',
    positionals: { min: 2, max: 2, what: 'APP DOMAIN' },
    options: { tenant: TENANT },
    examples: ['paved domains remove hello hello.example.com'],
  },
  {
    name: 'tenants',
    usage: '',
    summary: 'List the tenants you can see',
    positionals: { min: 0, max: 0, what: '' },
    options: {},
    examples: ['paved tenants'],
  },
  {
    name: 'delete',
    usage: 'APP',
    summary: 'Delete an app (its URL stops answering; its history stays)',
    positionals: app(),
    options: {
      tenant: TENANT,
      yes: {
        type: 'boolean',
        short: 'y',
        description: 'Do not ask (needed when stdin is not a terminal)',
      },
      wait: { type: 'boolean', description: 'Wait until it is gone' },
      timeout: TIMEOUT,
    },
    examples: ['paved delete hello --yes'],
  },
];

/** Commands that have subcommands: `env set`, `domains add`, … */
const PARENTS = new Set(
  COMMANDS.filter(c => c.name.includes(' ')).map(c => c.name.split(' ')[0]),
);

export interface ParsedCommandLine {
  /** Undefined for `paved`, `paved --help` or `paved help`. */
  command?: CommandSpec;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
  version: boolean;
}

function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find(c => c.name === name);
}

/**
 * Finds the command (the first one or two words that are not options;
 * global options may come first) and parses the rest against its options.
 */
export function parseCommandLine(argv: string[]): ParsedCommandLine {
  const words: number[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (arg === '--url') {
      i++;
    } else if (!arg.startsWith('-')) {
      words.push(i);
      if (!PARENTS.has(arg) || words.length === 2) break;
    }
  }
  const first = words.length ? argv[words[0]] : undefined;
  if (first === undefined || first === 'help') {
    const topic = first === 'help' ? argv[words[0] + 1] : undefined;
    const command = topic ? findCommand(topic) : undefined;
    if (topic && !command) throw unknownCommand(topic);
    return {
      command,
      values: {},
      positionals: [],
      help: true,
      version: argv.includes('--version') && !argv.includes('--help'),
    };
  }
  let command = findCommand(first);
  let taken = [words[0]];
  if (PARENTS.has(first) && words.length === 2) {
    const sub = findCommand(`${first} ${argv[words[1]]}`);
    if (sub) {
      command = sub;
      taken = words;
    }
  }
  if (!command) throw unknownCommand(first);
  const rest = argv.filter((_, i) => !taken.includes(i));
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(options).map(([key, o]) => [
          key,
          {
            type: o.type,
            ...(o.short ? { short: o.short } : {}),
            ...(o.multiple ? { multiple: true } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      `paved ${command.name}: ${(error as Error).message
        .replace(/\. To specify a positional argument.*$/s, '')
        .replace(/^Unknown option/, 'unknown option')}`,
      `Run \`paved ${command.name} --help\` for its options.`,
    );
  }
  const values = parsed.values as ParsedCommandLine['values'];
  const help = values.help === true;
  const { positionals } = parsed;
  if (!help) {
    const { min, max, what } = command.positionals;
    if (positionals.length < min) {
      throw new UsageError(
        `paved ${command.name}: missing ${what
          .split(' ')
          .slice(positionals.length)
          .join(' ')}`,
        `Usage: ${usageLine(command)}`,
      );
    }
    if (positionals.length > max) {
      throw new UsageError(
        `paved ${command.name}: unexpected argument "${positionals[max]}"`,
        `Usage: ${usageLine(command)}`,
      );
    }
  }
  return { command, values, positionals, help, version: false };
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `Unknown command "${name}"`,
    `Commands: ${[...new Set(COMMANDS.map(c => c.name.split(' ')[0]))].join(
      ', ',
    )}. Run \`paved --help\`.`,
  );
}

function usageLine(command: CommandSpec): string {
  const required = Object.entries(command.options)
    .filter(([, o]) => o.description.includes('(required)'))
    .map(([k, o]) => `--${k} ${o.value}`);
  return ['paved', command.name, command.usage, ...required, '[options]']
    .filter(Boolean)
    .join(' ');
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([key, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${key}${
      o.value ? ` ${o.value}` : ''
    }`,
    o.description,
  ]);
  const width = Math.max(...rows.map(r => r[0].length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

/** The help of one command, or of `paved` itself. */
export function helpText(command?: CommandSpec): string {
  if (command) {
    return [
      `Usage: ${usageLine(command)}`,
      '',
      command.summary,
      '',
      'Options:',
      ...optionLines({ ...command.options, ...GLOBAL_OPTIONS }),
      '',
      'Examples:',
      ...command.examples.map(e => `  ${e}`),
      '',
    ].join('\n');
  }
  const width = Math.max(...COMMANDS.map(c => c.name.length + c.usage.length));
  return [
    'paved: deploy and run apps on Paved from the command line',
    '',
    'Usage: paved COMMAND [arguments] [options]',
    '',
    'Commands:',
    ...COMMANDS.map(
      c => `  ${`${c.name} ${c.usage}`.padEnd(width + 1)}  ${c.summary}`,
    ),
    '',
    'Options of every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Environment: PAVED_URL (the backend), PAVED_TOKEN (a token, instead of',
    '`paved login`), PAVED_TENANT (the default tenant), PAVED_INGRESS (where',
    'app URLs are reached), XDG_CONFIG_HOME (where the sign-in is kept).',
    '',
    'Exit codes: 0 done, 1 failed, 2 bad input, 3 not signed in or not',
    'allowed, 4 not found, 5 timed out.',
    '',
    'Run `paved COMMAND --help` for the options and examples of a command.',
    '',
  ].join('\n');
}
