/**
 * Strict request framing: a body is JSON in UTF-8, sent as
 * `application/json`, at most {@link MAX_BODY_BYTES} once decompressed, or it
 * is refused with a status and a message that say what to send instead.
 * GET and DELETE take no body. A request without a body reaches the route
 * with `req.body === undefined`, so a route that needs one can say so.
 */
import { InputError } from '@backstage/errors';
import { MAX_APP_WAIT_SECONDS } from '@paved/plugin-paved-common';
import express from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

/** Largest accepted request body, counted after decompression. */
export const MAX_BODY_BYTES = 256 * 1024;

const ACCEPTED_ENCODINGS = ['identity', 'gzip', 'deflate'];
const BODYLESS_METHODS = ['GET', 'HEAD', 'DELETE', 'OPTIONS'];

function hasBody(req: express.Request): boolean {
  const length = req.headers['content-length'];
  return (
    req.headers['transfer-encoding'] !== undefined ||
    (length !== undefined && length !== '0')
  );
}

/** Refuses what is not JSON in UTF-8 before anything reads the body. */
function checkFraming(req: express.Request): void {
  if (!hasBody(req)) return;
  if (BODYLESS_METHODS.includes(req.method)) {
    throw new InputError(
      `${req.method} takes no request body; send the request without one${
        req.method === 'DELETE'
          ? ' (give expectedGeneration as a query parameter)'
          : ''
      }`,
    );
  }
  const header = req.headers['content-type'];
  if (!header) {
    throw new UnsupportedMediaTypeError(
      'The request has a body but no Content-Type; send JSON with Content-Type: application/json',
    );
  }
  const [mediaType, ...parameters] = header.split(';').map(p => p.trim());
  if (mediaType.toLowerCase() !== 'application/json') {
    throw new UnsupportedMediaTypeError(
      `Content-Type "${mediaType}" is not accepted; send JSON with Content-Type: application/json`,
    );
  }
  for (const parameter of parameters) {
    const [key, value = ''] = parameter.split('=').map(p => p.trim());
    if (
      key.toLowerCase() === 'charset' &&
      value.replace(/^"|"$/g, '').toLowerCase() !== 'utf-8'
    ) {
      throw new UnsupportedMediaTypeError(
        `Charset "${value}" is not accepted; send the JSON body in UTF-8 (charset=utf-8, or no charset)`,
      );
    }
  }
  const encodings = (req.headers['content-encoding'] ?? 'identity')
    .split(',')
    .map(e => e.trim().toLowerCase());
  const unsupported = encodings.find(e => !ACCEPTED_ENCODINGS.includes(e));
  if (unsupported !== undefined || encodings.length > 1) {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding "${req.headers['content-encoding']}" is not accepted; send the body uncompressed, or compressed once with gzip or deflate`,
    );
  }
}

/** Turns body-parser's errors into ones that say what to fix. */
function explainParseError(error: any, req: express.Request): Error {
  switch (error?.type) {
    case 'entity.too.large':
      return new PayloadTooLargeError(
        `The request body is over the limit of ${MAX_BODY_BYTES} bytes${
          req.headers['content-encoding'] ? ' once decompressed' : ''
        }; send less env data or fewer domains per request`,
      );
    case 'entity.parse.failed':
      return new InputError(
        `The request body is not valid JSON (${error.message}); send a JSON object`,
      );
    case 'request.size.invalid':
    case 'request.aborted':
      return new InputError(
        'The request body ended before its Content-Length; send the whole body, or no Content-Length with chunked encoding',
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError(
        'The body is compressed or encoded in a way the API does not accept; send JSON in UTF-8, uncompressed or gzip',
      );
    default:
      if (typeof error?.code === 'string' && error.code.startsWith('Z_')) {
        return new InputError(
          `The request body is not valid ${req.headers['content-encoding']} data (${error.message}); compress it again or send it uncompressed`,
        );
      }
      return error;
  }
}

/** The body parsing middleware of the router, framing checks first. */
export function jsonBody(): express.RequestHandler {
  const parse = express.json({
    limit: MAX_BODY_BYTES,
    inflate: true,
    strict: true,
    type: () => true,
  });
  return (req, res, next) => {
    try {
      checkFraming(req);
    } catch (error) {
      next(error);
      return;
    }
    if (!hasBody(req)) {
      req.body = undefined;
      next();
      return;
    }
    parse(req, res, error => next(error && explainParseError(error, req)));
  };
}

/**
 * The seconds of a `Prefer: wait=N` header (RFC 7240), 0 when there is
 * none; other preferences are ignored, as the RFC asks. A wait that is not
 * a whole number of seconds, or is over {@link MAX_APP_WAIT_SECONDS}, is an
 * error that says so.
 */
export function preferredWaitSeconds(header: string | undefined): number {
  if (!header) return 0;
  for (const preference of header.split(',')) {
    const [token, ...rest] = preference.split('=');
    if (token.trim().toLowerCase() !== 'wait') continue;
    const value = rest.join('=').trim();
    const seconds = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
    if (!(seconds <= MAX_APP_WAIT_SECONDS)) {
      throw new InputError(
        `Invalid Prefer header: wait=${value.slice(
          0,
          20,
        )} must be a whole number of seconds from 0 to ${MAX_APP_WAIT_SECONDS}`,
      );
    }
    return seconds;
  }
  return 0;
}
