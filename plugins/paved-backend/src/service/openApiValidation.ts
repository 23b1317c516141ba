/**
 * Request validation driven by the OpenAPI document, with Backstage's own
 * tooling: `createValidatedOpenApiRouter` of `@backstage/backend-openapi-utils`
 * (express-openapi-validator underneath, JSON Schema 2020-12 for a 3.1
 * document) checks every request the document describes — path parameters,
 * query, headers, JSON body — against its operation.
 *
 * The routes keep their own zod parsing, from the same schemas the
 * document is generated from, because their errors say what to fix
 * (`Invalid tenant: name: Tenant name must be lowercase…`) where the
 * validator's say only which rule failed (`body must NOT have additional
 * properties`). So the order is: the middleware records the document's
 * verdict; each route parses its input (the precise 400 comes first), then
 * calls `assertDocumented(req)` before it acts, which refuses what the
 * document refuses and zod let through. Nothing the document rejects is
 * acted on.
 *
 * It runs after Paved's framing (jsonBody: 413, 415 and malformed JSON keep
 * their own answers) and on copies of the query and body: the validator
 * turns query strings into numbers and fills in defaults, which the routes
 * must not see.
 */
import { createValidatedOpenApiRouter } from '@backstage/backend-openapi-utils';
import { InputError } from '@backstage/errors';
import type express from 'express';

/** The document's verdict on each request it refused. */
const refused = new WeakMap<express.Request, string>();
/** A request the validator failed on (a fault of its own, not the request's). */
const failed = new WeakMap<express.Request, string>();

/**
 * What express-openapi-validator says of a request that breaks the
 * document (Backstage's wrapper keeps only the message): the part it
 * checked (`request/body…`, `request/query…`, …), or the few checks it
 * words otherwise. Anything else is the validator failing.
 */
const REFUSAL = /^(request\/|Unknown query parameter|unsupported media type)/;

/**
 * The document as the validator reads it: paths relative to the router
 * (the served document's `servers` is the mount, /api/paved), and no
 * security (Backstage's httpAuth checks credentials, cookies included).
 * Through JSON, not structuredClone: the generated document shares objects
 * (one parameters list for several operations), and the validator writes
 * into what it is given.
 */
export function documentForValidation(document: object): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(document));
  copy.servers = [{ url: '/' }];
  delete copy.security;
  for (const item of Object.values<any>(copy.paths ?? {})) {
    for (const operation of Object.values<any>(item)) {
      if (operation && typeof operation === 'object') delete operation.security;
    }
  }
  return copy;
}

function setQuery(req: express.Request, query: unknown) {
  // A getter in Express 5; a plain property in 4.
  Object.defineProperty(req, 'query', {
    value: query,
    configurable: true,
    writable: true,
    enumerable: true,
  });
}

/**
 * Middleware that records what the document says of each request. Throws
 * at once when the validator cannot compile the document (it would
 * otherwise refuse every request).
 */
export function openApiRequestValidation(
  document: object,
): express.RequestHandler {
  const validator = createValidatedOpenApiRouter(
    documentForValidation(document) as any,
    {
      // The body is parsed already, by Paved's jsonBody().
      middleware: [(_req, _res, next) => next()],
      validatorOptions: {
        validateApiSpec: true,
        validateSecurity: false,
        validateRequests: {
          allowUnknownQueryParameters: false,
          coerceTypes: false,
          allErrors: true,
        },
      },
    },
  );

  return (req, res, next) => {
    // The validator's router serves a document of its own there (3.0.3,
    // merged); Paved serves the one it generates.
    if (req.path === '/openapi.json') {
      next();
      return;
    }
    const { query, body } = req;
    setQuery(req, { ...query });
    req.body = body === undefined ? undefined : structuredClone(body);
    validator(req, res, (error?: unknown) => {
      setQuery(req, query);
      req.body = body;
      delete (req as any).openapi;
      if (error !== undefined && error !== 'route' && error !== 'router') {
        const message = error instanceof Error ? error.message : String(error);
        if (REFUSAL.test(message)) {
          refused.set(req, message.replace(/\brequest\//g, ''));
        } else {
          failed.set(req, message);
        }
      }
      next();
    });
  };
}

/**
 * Refuses (400) a request the OpenAPI document refused. Each route calls
 * it once it has parsed its input, before it acts.
 */
export function assertDocumented(req: express.Request): void {
  const fault = failed.get(req);
  if (fault !== undefined) {
    // Not the caller's fault, and not to be waved through: a 500.
    throw new Error(
      `The request could not be checked against the OpenAPI document: ${fault}`,
    );
  }
  const problem = refused.get(req);
  if (problem === undefined) return;
  throw new InputError(
    `Invalid request: ${problem}; the API is described in ${req.baseUrl}/openapi.json`,
  );
}
