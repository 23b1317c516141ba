/**
 * How the API answers errors: always a JSON body in Backstage's format
 * (`{ error: { name, message }, response: { statusCode } }`), a message that
 * says what to fix, the caller's input echoed only clipped, and never a
 * stack, in development too. 5xx answers carry a reference to the log line
 * instead of internals.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { CustomErrorBase } from '@backstage/errors';
import type express from 'express';
import crypto from 'crypto';
import { noteAnsweredError } from './audit';

/** 413: the request, or what it would make of the app, is over a limit. */
export class PayloadTooLargeError extends CustomErrorBase {
  name = 'PayloadTooLargeError' as const;
}

/** 415: the body is not JSON in UTF-8, or its encoding is not supported. */
export class UnsupportedMediaTypeError extends CustomErrorBase {
  name = 'UnsupportedMediaTypeError' as const;
}

/** 405: the path exists, the method does not; `allow` lists those that do. */
export class MethodNotAllowedError extends CustomErrorBase {
  name = 'MethodNotAllowedError' as const;
  constructor(message: string, readonly allow: string[]) {
    super(message);
  }
}

/** 429: too many writes by one identity; `retryAfterSeconds` says when to retry. */
export class TooManyRequestsError extends CustomErrorBase {
  name = 'TooManyRequestsError' as const;
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}

const STATUS_BY_NAME: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  MethodNotAllowedError: 405,
  ConflictError: 409,
  PayloadTooLargeError: 413,
  UnsupportedMediaTypeError: 415,
  TooManyRequestsError: 429,
  NotImplementedError: 501,
  ServiceUnavailableError: 503,
};

/** Longest quoted input kept in a message, and longest message. */
const QUOTED_MAX = 64;
const MESSAGE_MAX = 2000;

/**
 * Shortens every quoted value in a message (`"…"`) to its start and its
 * length, so a 5,000-character name is not echoed back, and caps the whole.
 */
export function clipMessage(message: string): string {
  const clipped = message.replace(
    new RegExp(`"([^"]{${QUOTED_MAX + 1},})"`, 'g'),
    (_match, value: string) =>
      `"${value.slice(0, QUOTED_MAX - 16)}…" (${value.length} characters)`,
  );
  return clipped.length > MESSAGE_MAX
    ? `${clipped.slice(0, MESSAGE_MAX - 1)}…`
    : clipped;
}

export function sendError(
  res: express.Response,
  status: number,
  name: string,
  message: string,
): void {
  res
    .status(status)
    .type('application/json')
    .send(
      JSON.stringify({
        error: { name, message: clipMessage(message) },
        response: { statusCode: status },
      }),
    );
}

/** The router's last middleware: every error becomes a JSON answer. */
export function errorHandler(
  logger: LoggerService,
): express.ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    noteAnsweredError(res, error);
    const status =
      STATUS_BY_NAME[error?.name] ??
      (typeof error?.status === 'number' &&
      error.status >= 400 &&
      error.status < 500
        ? error.status
        : 500);
    if (error instanceof URIError) {
      // Express could not decode a path parameter.
      sendError(
        res,
        400,
        'InputError',
        `The path ${req.path} has a malformed percent-encoding; write a literal "%" as %25 and encode other special characters with encodeURIComponent`,
      );
      return;
    }
    if (error instanceof MethodNotAllowedError) {
      res.setHeader('Allow', error.allow.join(', '));
    }
    if (error instanceof TooManyRequestsError) {
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
    }
    if (status >= 500 && !STATUS_BY_NAME[error?.name]) {
      const reference = crypto.randomBytes(6).toString('hex');
      logger.error(
        `${req.method} ${req.originalUrl} failed (reference ${reference})`,
        error,
      );
      sendError(
        res,
        500,
        'Error',
        `The Paved backend failed to handle this request; the platform team can find why in its log under reference ${reference}`,
      );
      return;
    }
    sendError(
      res,
      status,
      typeof error?.name === 'string' && STATUS_BY_NAME[error.name]
        ? error.name
        : 'Error',
      String(error?.message ?? error),
    );
  };
}
