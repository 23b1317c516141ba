/**
 * Exec credential plugins (`users[].user.exec` in a kubeconfig), the way
 * kubectl and client-go run them (`plugin/pkg/client/auth/exec/exec.go`):
 * `aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin` and the like.
 *
 * The plugin is run without a terminal (stdin closed, `interactive: false`),
 * with `KUBERNETES_EXEC_INFO` set; its stdout is an `ExecCredential` whose
 * `status` holds a bearer token or a client certificate and key. The answer
 * is cached until its `expirationTimestamp` (a little before), or for the
 * life of the process when it has none; concurrent callers share one run.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const EXEC_API_VERSIONS = [
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
] as const;

export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/** What a plugin is told of the cluster when `provideClusterInfo` is set. */
export interface ExecClusterInfo {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  /** base64, as in a kubeconfig */
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
  'disable-compression'?: boolean;
  /** The cluster's `extensions` entry named `client.authentication.k8s.io/exec`. */
  config?: unknown;
}

/** A kubeconfig user's `exec` section, checked. */
export interface ExecConfig {
  apiVersion: ExecApiVersion;
  /** As written in the kubeconfig. */
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  installHint?: string;
  /** `Always` is refused when the kubeconfig is read: there is no terminal. */
  interactiveMode: 'Never' | 'IfAvailable';
  provideClusterInfo: boolean;
  /** The kubeconfig's directory: a relative command with a slash is resolved from it. */
  baseDir: string;
  /** Passed in `KUBERNETES_EXEC_INFO` when `provideClusterInfo` is set. */
  cluster?: ExecClusterInfo;
  /** A run that has not exited after this long fails; 60 s by default. */
  timeoutMs?: number;
}

/** A credential a plugin printed. */
export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** ms since the epoch; undefined: valid for the life of the process. */
  expiresAt?: number;
}

/** A plugin that could not be run or whose answer is unusable. */
export class ExecPluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecPluginError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** A credential this close to its expiry is refreshed before use. */
export const EXEC_REFRESH_BEFORE_MS = 10_000;
const STDERR_LIMIT = 2_000;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a kubeconfig user's `exec` section; throws naming the field to fix.
 * `cluster` is what a plugin gets with `provideClusterInfo`.
 */
export function parseExecConfig(
  raw: unknown,
  where: string,
  baseDir: string,
  cluster: ExecClusterInfo,
): ExecConfig {
  const bad = (what: string) =>
    new Error(`kubeconfig ${where}: exec plugin ${what}`);
  if (!isRecord(raw)) throw bad('must be a mapping');
  const apiVersion = raw.apiVersion;
  if (!EXEC_API_VERSIONS.includes(apiVersion as ExecApiVersion)) {
    throw bad(
      `apiVersion ${
        apiVersion === undefined ? 'is missing' : `"${String(apiVersion)}"`
      }: use one of ${EXEC_API_VERSIONS.join(', ')}`,
    );
  }
  if (typeof raw.command !== 'string' || !raw.command) {
    throw bad('has no command');
  }
  const args = raw.args ?? [];
  if (!Array.isArray(args) || args.some(a => typeof a !== 'string')) {
    throw bad('args must be a list of strings');
  }
  const env = raw.env ?? [];
  if (
    !Array.isArray(env) ||
    env.some(
      e =>
        !isRecord(e) ||
        typeof e.name !== 'string' ||
        !e.name ||
        typeof e.value !== 'string',
    )
  ) {
    throw bad('env must be a list of { name, value } strings');
  }
  // client-go: v1 requires interactiveMode; v1beta1 defaults to IfAvailable.
  const mode =
    raw.interactiveMode ??
    (apiVersion === 'client.authentication.k8s.io/v1beta1'
      ? 'IfAvailable'
      : undefined);
  if (mode === undefined) {
    throw bad(
      `has no interactiveMode, which ${apiVersion} requires: set interactiveMode: Never (or IfAvailable)`,
    );
  }
  if (mode === 'Always') {
    throw bad(
      `"${raw.command}" has interactiveMode: Always, but Paved runs plugins without a terminal: use Never or IfAvailable, with credentials the plugin can get without asking`,
    );
  }
  if (mode !== 'Never' && mode !== 'IfAvailable') {
    throw bad(`interactiveMode "${String(mode)}": use Never or IfAvailable`);
  }
  const provideClusterInfo = raw.provideClusterInfo === true;
  return {
    apiVersion: apiVersion as ExecApiVersion,
    command: raw.command,
    args: args as string[],
    env: (env as Array<{ name: string; value: string }>).map(e => ({
      name: e.name,
      value: e.value,
    })),
    installHint:
      typeof raw.installHint === 'string' ? raw.installHint : undefined,
    interactiveMode: mode,
    provideClusterInfo,
    baseDir,
    cluster: provideClusterInfo ? cluster : undefined,
  };
}

/** The `KUBERNETES_EXEC_INFO` a plugin gets (JSON). */
export function execInfo(config: ExecConfig): string {
  return JSON.stringify({
    apiVersion: config.apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      ...(config.provideClusterInfo && config.cluster
        ? { cluster: config.cluster }
        : {}),
    },
  });
}

/** The command as spawned: a relative path with a slash is from the kubeconfig's directory. */
export function resolveExecCommand(config: ExecConfig): string {
  const { command } = config;
  if (path.isAbsolute(command) || !command.includes('/')) return command;
  return path.resolve(config.baseDir, command);
}

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > STDERR_LIMIT
    ? `${trimmed.slice(0, STDERR_LIMIT)}… (${
        trimmed.length - STDERR_LIMIT
      } more characters)`
    : trimmed;
}

/** Runs the plugin once and checks its answer. */
export async function runExecPlugin(
  config: ExecConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExecCredential> {
  const command = resolveExecCommand(config);
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const name = `exec plugin "${config.command}"`;
  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const { name: key, value } of config.env) childEnv[key] = value;
  childEnv.KUBERNETES_EXEC_INFO = execInfo(config);

  const { stdout, stderr } = await new Promise<{
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(command, config.args, {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const live: { timer?: NodeJS.Timeout } = {};
    const done = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(live.timer);
      if (error) reject(error);
      else {
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      }
    };
    live.timer = setTimeout(() => {
      child.kill('SIGKILL');
      const said = clip(Buffer.concat(err).toString('utf8'));
      done(
        new ExecPluginError(
          `${name} did not finish in ${timeoutMs}ms and was killed${
            said ? `; its stderr: ${said}` : ''
          }`,
        ),
      );
    }, timeoutMs);
    child.stdout.on('data', chunk => out.push(chunk));
    child.stderr.on('data', chunk => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        const where =
          command === config.command
            ? 'not found on PATH'
            : `not found (resolved to ${command})`;
        done(
          new ExecPluginError(
            `${name}: ${where}${
              config.installHint
                ? `. ${config.installHint.trim()}`
                : '; install it or fix the command in the kubeconfig'
            }`,
          ),
        );
      } else {
        done(new ExecPluginError(`${name} could not run: ${error.message}`));
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        done();
        return;
      }
      const said = clip(Buffer.concat(err).toString('utf8'));
      done(
        new ExecPluginError(
          `${name} failed (${
            code === null ? `killed by ${signal}` : `exit code ${code}`
          })${said ? `: ${said}` : ' and wrote nothing to stderr'}`,
        ),
      );
    });
  });
  return parseExecCredential(stdout, config, stderr);
}

/** Checks a plugin's stdout (client-go's rules). */
export function parseExecCredential(
  stdout: string,
  config: Pick<ExecConfig, 'apiVersion' | 'command'>,
  stderr = '',
): ExecCredential {
  const name = `exec plugin "${config.command}"`;
  const fail = (what: string) => {
    const said = clip(stderr);
    return new ExecPluginError(
      `${name} ${what}${said ? `; its stderr: ${said}` : ''}`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw fail(
      `printed no ExecCredential JSON on stdout (got ${
        stdout.trim() ? JSON.stringify(clip(stdout).slice(0, 200)) : 'nothing'
      })`,
    );
  }
  if (!isRecord(parsed) || parsed.kind !== 'ExecCredential') {
    throw fail(
      `printed JSON that is not an ExecCredential (kind ${JSON.stringify(
        isRecord(parsed) ? parsed.kind : undefined,
      )})`,
    );
  }
  if (parsed.apiVersion !== config.apiVersion) {
    throw fail(
      `printed an ExecCredential of apiVersion ${JSON.stringify(
        parsed.apiVersion,
      )}, but the kubeconfig asks for ${
        config.apiVersion
      }: make the kubeconfig's exec.apiVersion match the plugin`,
    );
  }
  const status = parsed.status;
  if (!isRecord(status)) throw fail('printed an ExecCredential without status');
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const token = str(status.token);
  const certData = str(status.clientCertificateData);
  const keyData = str(status.clientKeyData);
  if (!!certData !== !!keyData) {
    throw fail(
      'returned only one of clientCertificateData and clientKeyData, not both',
    );
  }
  if (!token && !certData) {
    throw fail('returned neither a token nor a client certificate and key');
  }
  let expiresAt: number | undefined;
  if (status.expirationTimestamp !== undefined) {
    expiresAt = Date.parse(String(status.expirationTimestamp));
    if (Number.isNaN(expiresAt)) {
      throw fail(
        `returned an expirationTimestamp that is not a time: ${JSON.stringify(
          status.expirationTimestamp,
        )}`,
      );
    }
  }
  return {
    token,
    // PEM, as printed (client-go takes the data as is, not base64).
    cert: certData ? Buffer.from(certData) : undefined,
    key: keyData ? Buffer.from(keyData) : undefined,
    expiresAt,
  };
}

/**
 * One plugin's credential, cached: `get` runs the plugin when nothing
 * usable is cached (one run for every caller waiting), `invalidate` drops
 * the credential a 401 answered.
 */
export class ExecCredentialProvider {
  private cached?: ExecCredential;
  private running?: Promise<ExecCredential>;
  /** How often the plugin ran (successfully or not). */
  runs = 0;

  constructor(
    readonly config: ExecConfig,
    private readonly options: {
      now?: () => number;
      refreshBeforeMs?: number;
      env?: NodeJS.ProcessEnv;
    } = {},
  ) {}

  async get(): Promise<ExecCredential> {
    const now = (this.options.now ?? Date.now)();
    const before = this.options.refreshBeforeMs ?? EXEC_REFRESH_BEFORE_MS;
    const cached = this.cached;
    if (
      cached &&
      (cached.expiresAt === undefined || cached.expiresAt - before > now)
    ) {
      return cached;
    }
    if (!this.running) {
      this.runs += 1;
      const run = runExecPlugin(this.config, this.options.env);
      this.running = run;
      run
        .then(
          credential => {
            this.cached = credential;
          },
          () => undefined,
        )
        .finally(() => {
          if (this.running === run) this.running = undefined;
        });
    }
    return this.running;
  }

  /** Drops `used` if it is still the cached one (a 401 answered it). */
  invalidate(used: ExecCredential): void {
    if (this.cached === used) this.cached = undefined;
  }
}
