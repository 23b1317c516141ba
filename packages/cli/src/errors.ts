/**
 * What `paved` exits with, and the errors that carry it. Every failure the
 * user sees says what went wrong and what to do about it.
 */
import { ResponseError } from '@backstage/errors';
import { apiErrorMessage, apiErrorStatus } from '@paved/plugin-paved-common';

/** The exit codes of `paved`; the README lists them. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Something failed: the server refused the change, the app failed, the network. */
  failure: 1,
  /** Bad input: an unknown command or option, a missing or invalid value. */
  usage: 2,
  /** Not signed in, the sign-in expired, or not allowed (401, 403). */
  auth: 3,
  /** No such tenant or app, or not one the caller may see (404). */
  notFound: 4,
  /** Waited for longer than --timeout (the app may still get there). */
  timeout: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure with its exit code and, when there is one, what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad input on the command line (exit 2); the hint names the usage. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.usage, hint);
    this.name = 'UsageError';
  }
}

/**
 * Turns an error of the API client into what the user reads: the server's
 * message (which says what to fix), the exit code of its status, and what
 * to do next.
 */
export function fromApiError(
  error: unknown,
  context: { url: string; what?: string },
): CliError {
  if (error instanceof CliError) return error;
  const status = apiErrorStatus(error);
  const message = apiErrorMessage(error);
  if (status === undefined) {
    const cause = (error as { cause?: { code?: string; message?: string } })
      ?.cause;
    if (cause && /fetch failed/.test(message)) {
      return new CliError(
        `Cannot reach the Paved backend at ${context.url} (${
          cause.code ?? cause.message
        })`,
        EXIT.failure,
        'Is it running? Give its address with --url or PAVED_URL (the local stack: ./scripts/start.sh, http://localhost:7007).',
      );
    }
    return new CliError(message, EXIT.failure);
  }
  const what = context.what ? `${context.what}: ` : '';
  if (status === 401) {
    return new CliError(
      `${what}not signed in, or the sign-in expired (${message})`,
      EXIT.auth,
      `Sign in with \`paved login\` (see \`paved login --help\`), or set PAVED_TOKEN.`,
    );
  }
  if (status === 403) {
    return new CliError(`${what}${message}`, EXIT.auth);
  }
  if (status === 404) {
    return new CliError(
      `${what}${message}`,
      EXIT.notFound,
      '`paved apps` lists the apps you can see, `paved tenants` the tenants.',
    );
  }
  if (status === 400) {
    return new CliError(`${what}${message}`, EXIT.usage);
  }
  if (status === 409) {
    return new CliError(
      `${what}${message}`,
      EXIT.failure,
      'Someone changed it since it was read; run the command again.',
    );
  }
  const name =
    error instanceof ResponseError ? error.body.error?.name : undefined;
  return new CliError(
    `${what}${message}${name ? ` (${name}, HTTP ${status})` : ''}`,
    EXIT.failure,
  );
}
