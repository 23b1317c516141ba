/**
 * The OpenAPI 3.1 document of the REST API, generated from the zod schemas
 * of ./api.ts: request bodies as the router parses them (`io: 'input'`),
 * answers as the backend writes them (`io: 'output'`). The backend serves it
 * at `/api/paved/openapi.json`.
 */
import { z } from 'zod';
import {
  appDeletionSchema,
  appViewSchema,
  createTenantRequestSchema,
  deployAppRequestSchema,
  emptyRequestSchema,
  errorResponseBodySchema,
  appPageSchema,
  expectedGenerationSchema,
  patchEnvRequestSchema,
  planViewSchema,
  revisionViewSchema,
  rollbackRequestSchema,
  tenantDeletionSchema,
  tenantViewSchema,
  updateTenantRequestSchema,
} from './api';
import {
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  CURSOR_PATTERN,
  DELETED_TENANT_UID_PATTERN,
  appEventsPageSchema,
  auditPageSchema,
  deletedTenantViewSchema,
} from './history';
import {
  LOG_SINCE_MAX_SECONDS,
  LOG_TAIL_DEFAULT,
  LOG_TAIL_MAX,
  SYSTEM_CONTAINER,
  logLineSchema,
} from './logs';
import { appNameSchema, domainSchema, tenantNameSchema } from './schemas';
import { putDomainRequestSchema } from './domains';

/** The JSON schema dialect of the document's schemas (OpenAPI 3.1's default). */
export const OPENAPI_SCHEMA_DIALECT =
  'https://spec.openapis.org/oas/3.1/dialect/base';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const json = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

/** Request bodies, by component name. */
const requestBodies = {
  CreateTenantRequest: createTenantRequestSchema,
  UpdateTenantRequest: updateTenantRequestSchema,
  DeployAppRequest: deployAppRequestSchema,
  PatchEnvRequest: patchEnvRequestSchema,
  RollbackRequest: rollbackRequestSchema,
  EmptyRequest: emptyRequestSchema.unwrap(),
  PutDomainRequest: putDomainRequestSchema,
};

/** Answers, by component name. */
const answers = {
  Plan: planViewSchema,
  TenantView: tenantViewSchema,
  TenantDeletion: tenantDeletionSchema,
  AppView: appViewSchema,
  AppPage: appPageSchema,
  AppDeletion: appDeletionSchema,
  AppEventsPage: appEventsPageSchema,
  RevisionView: revisionViewSchema,
  AuditPage: auditPageSchema,
  DeletedTenantView: deletedTenantViewSchema,
  LogLine: logLineSchema,
  Error: errorResponseBodySchema,
};
type Answer = keyof typeof answers;

const list = (name: Answer) =>
  json({
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref(name) } },
    additionalProperties: false,
  });

/** The error answers, each with the Error body. */
const ERRORS: Record<string, [name: string, description: string]> = {
  '400': ['BadRequest', 'Invalid input; the message names each field'],
  '401': ['Unauthorized', 'No valid Backstage token'],
  '403': ['Forbidden', 'Not a member of the tenant owner group'],
  '404': ['NotFound', 'No such tenant or app, or not visible to you'],
  '405': [
    'MethodNotAllowed',
    'The path exists but not with this method; the Allow header lists those that do',
  ],
  '409': ['Conflict', 'Changed concurrently, exists already, or plan limit'],
  '413': [
    'TooLarge',
    'Request body over 256 KiB (after decompression), or the app would hold more than 128 KiB of env',
  ],
  '415': [
    'UnsupportedMediaType',
    'The body is not JSON in UTF-8 sent as application/json, or its Content-Encoding is not identity, gzip or deflate',
  ],
  '429': [
    'TooManyRequests',
    'Over the write rate limit of your identity (paved.rateLimit); Retry-After says when to retry',
  ],
  '500': [
    'InternalError',
    'The backend failed; the message gives a reference to its log',
  ],
  '503': [
    'Unavailable',
    'No cluster is configured (paved.kubernetes), so there is nothing there to read',
  ],
};
const READ_ERRORS = ['400', '401', '403', '404', '405', '500'];
const WRITE_ERRORS = [...READ_ERRORS, '409', '413', '415', '429'];

const errorRefs = (statuses: string[]) =>
  Object.fromEntries(
    [...statuses]
      .sort()
      .map(status => [
        status,
        { $ref: `#/components/responses/${ERRORS[status][0]}` },
      ]),
  );

interface Success {
  status: string;
  description?: string;
  content?: unknown;
  headers?: Record<string, unknown>;
}

function op(
  summary: string,
  success: Success | Success[],
  extra: {
    body?: string;
    optionalBody?: string;
    write?: boolean;
    /** Query and header parameters. */
    parameters?: unknown[];
    /** The error statuses, when not those of a read or a write. */
    errors?: string[];
  } = {},
) {
  const answered = Array.isArray(success) ? success : [success];
  const body = extra.body ?? extra.optionalBody;
  return {
    summary,
    ...(extra.parameters ? { parameters: extra.parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: Boolean(extra.body),
            content: json(ref(body)),
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        answered.map(s => [
          s.status,
          {
            description: s.description ?? 'OK',
            ...(s.content ? { content: s.content } : {}),
            ...(s.headers ? { headers: s.headers } : {}),
          },
        ]),
      ),
      ...errorRefs(extra.errors ?? (extra.write ? WRITE_ERRORS : READ_ERRORS)),
    },
  };
}

const ok = (name: Answer): Success => ({
  status: '200',
  content: json(ref(name)),
});
const okList = (name: Answer): Success => ({
  status: '200',
  content: list(name),
});

/** Pause, resume, redeploy and the like: optional body, answers the app. */
const appAction = (summary: string, body?: string) =>
  op(
    summary,
    ok('AppView'),
    body
      ? { write: true, body }
      : // No body, or one with only expectedGeneration.
        { write: true, optionalBody: 'EmptyRequest' },
  );

export function openApiDocument() {
  /** DELETE takes no body; its optimistic-concurrency check is a query parameter. */
  const expectedGenerationQuery = {
    name: 'expectedGeneration',
    in: 'query',
    required: false,
    schema: jsonSchema(expectedGenerationSchema, 'input'),
    description:
      'The generation you last read; the delete fails with 409 if the object changed since',
  };
  const tenantParam = {
    name: 'tenant',
    in: 'path',
    required: true,
    schema: jsonSchema(tenantNameSchema, 'input'),
    description: 'Tenant name',
  };
  const appParam = {
    name: 'app',
    in: 'path',
    required: true,
    schema: jsonSchema(appNameSchema, 'input'),
    description: 'App name',
  };
  const domainParam = {
    name: 'domain',
    in: 'path',
    required: true,
    schema: jsonSchema(domainSchema, 'input'),
    description: 'A host name such as shop.example.com',
  };
  const query = (name: string, schema: object, description: string) => ({
    name,
    in: 'query',
    required: false,
    schema,
    description,
  });
  const pageQuery = [
    query(
      'limit',
      { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX },
      `Entries per page (default ${AUDIT_PAGE_DEFAULT})`,
    ),
    query(
      'cursor',
      { type: 'string', pattern: CURSOR_PATTERN },
      'The nextCursor of the previous page',
    ),
  ];
  // Apps are listed whole unless a page is asked for.
  const appPageQuery = [
    query(
      'limit',
      { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX },
      'Apps per page, by tenant and name (default: all of them, unpaged)',
    ),
    pageQuery[1],
  ];
  const boolean = { type: 'string', enum: ['true', 'false'] };
  const logsQuery = [
    query('follow', boolean, 'Keep the stream open and send new lines'),
    query(
      'tailLines',
      { type: 'integer', minimum: 1, maximum: LOG_TAIL_MAX },
      `Lines from the end of each instance's log (default ${LOG_TAIL_DEFAULT})`,
    ),
    query(
      'sinceSeconds',
      { type: 'integer', minimum: 1, maximum: LOG_SINCE_MAX_SECONDS },
      'Only lines printed in the last this many seconds',
    ),
    query('system', boolean, `Include Knative's ${SYSTEM_CONTAINER} lines`),
  ];
  const uidParam = {
    name: 'uid',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: DELETED_TENANT_UID_PATTERN },
    description: 'The deleted tenant’s uid (from GET /history/tenants)',
  };
  const accepted = (name: Answer): Success => ({
    status: '202',
    description: 'Deletion accepted; the operator removes it from the cluster',
    content: json(ref(name)),
  });

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: OPENAPI_SCHEMA_DIALECT,
    info: {
      title: 'Paved',
      version: '0.1.0',
      description:
        'Tenants and apps on your own Kubernetes. Mounted at /api/paved; authenticate with a Backstage user or service token (Authorization: Bearer).',
    },
    servers: [{ url: '/api/paved' }],
    security: [{ bearer: [] }],
    paths: {
      '/plans': {
        // Open to everyone, signed in or not.
        get: {
          ...op('List the plans', okList('Plan'), {
            errors: ['400', '405', '500'],
          }),
          security: [],
        },
      },
      '/tenants': {
        get: op('List the tenants you can see', okList('TenantView')),
        post: op(
          'Create a tenant',
          { status: '201', content: json(ref('TenantView')) },
          { body: 'CreateTenantRequest', write: true },
        ),
      },
      '/tenants/{tenant}': {
        parameters: [tenantParam],
        get: op('Get a tenant', ok('TenantView')),
        patch: op(
          'Change display name, plan, limits or isolation',
          ok('TenantView'),
          { body: 'UpdateTenantRequest', write: true },
        ),
        delete: op('Delete a tenant and its apps', accepted('TenantDeletion'), {
          write: true,
          parameters: [expectedGenerationQuery],
        }),
      },
      '/tenants/{tenant}/audit': {
        parameters: [tenantParam],
        get: op(
          'Audit log of the tenant and its apps, newest first, paged',
          ok('AuditPage'),
          { parameters: pageQuery },
        ),
      },
      '/history/tenants': {
        get: op(
          'Deleted tenants whose history you may read',
          okList('DeletedTenantView'),
        ),
      },
      '/history/tenants/{uid}/audit': {
        parameters: [uidParam],
        get: op(
          'Audit log of a deleted tenant, newest first, paged',
          ok('AuditPage'),
          { parameters: pageQuery },
        ),
      },
      '/apps': {
        get: op(
          'List the apps of every tenant you can see (all of them, or paged with ?limit=)',
          ok('AppPage'),
          { parameters: appPageQuery },
        ),
      },
      '/tenants/{tenant}/apps': {
        parameters: [tenantParam],
        get: op(
          'List the apps of a tenant (all of them, or paged with ?limit=)',
          ok('AppPage'),
          { parameters: appPageQuery },
        ),
      },
      '/tenants/{tenant}/apps/{app}': {
        parameters: [tenantParam, appParam],
        get: op(
          'Get an app; with If-None-Match and Prefer: wait=N, a long poll that answers once the app changes',
          [
            {
              ...ok('AppView'),
              headers: {
                ETag: {
                  description:
                    'The version of this answer: send it back as If-None-Match to wait for the next change',
                  schema: { type: 'string' },
                },
              },
            },
            {
              status: '304',
              description:
                'Not Modified: the app still matches If-None-Match (after the wait Prefer asked for)',
            },
          ],
          {
            parameters: [
              {
                name: 'If-None-Match',
                in: 'header',
                required: false,
                schema: { type: 'string' },
                description:
                  'The ETag of the last answer: answer 304 if the app still matches it',
              },
              {
                name: 'Prefer',
                in: 'header',
                required: false,
                schema: { type: 'string', example: 'wait=20' },
                description:
                  'wait=N (RFC 7240, N from 0 to 60): with If-None-Match, hold the request up to N seconds until the app changes',
              },
            ],
          },
        ),
        put: op(
          'Deploy an app: create it (201) or replace its config (200)',
          [
            { ...ok('AppView'), description: 'Config replaced' },
            {
              status: '201',
              description: 'App created',
              content: json(ref('AppView')),
            },
          ],
          { body: 'DeployAppRequest', write: true },
        ),
        delete: op('Delete an app', accepted('AppDeletion'), {
          write: true,
          parameters: [expectedGenerationQuery],
        }),
      },
      '/tenants/{tenant}/apps/{app}/domains/{domain}': {
        parameters: [tenantParam, appParam, domainParam],
        put: op(
          'Put a custom domain on the app, claimed for its tenant (409 if another tenant holds it; moved from another app of the tenant), with the certificate its owner brings (checked: parses, valid now, covers the domain, key matches) or none',
          ok('AppView'),
          {
            write: true,
            optionalBody: 'PutDomainRequest',
            errors: [...WRITE_ERRORS, '503'],
          },
        ),
        delete: op(
          'Remove a custom domain from the app: its claim and certificate are released',
          ok('AppView'),
          { write: true, parameters: [expectedGenerationQuery] },
        ),
      },
      '/tenants/{tenant}/apps/{app}/env': {
        parameters: [tenantParam, appParam],
        patch: appAction('Set or remove env vars', 'PatchEnvRequest'),
      },
      '/tenants/{tenant}/apps/{app}/pause': {
        parameters: [tenantParam, appParam],
        post: appAction('Scale to zero and hold there'),
      },
      '/tenants/{tenant}/apps/{app}/resume': {
        parameters: [tenantParam, appParam],
        post: appAction('Resume a paused app'),
      },
      '/tenants/{tenant}/apps/{app}/redeploy': {
        parameters: [tenantParam, appParam],
        post: appAction('Roll a fresh revision with the same config'),
      },
      '/tenants/{tenant}/apps/{app}/rollback': {
        parameters: [tenantParam, appParam],
        post: appAction(
          'Go back to the config of an earlier revision',
          'RollbackRequest',
        ),
      },
      '/tenants/{tenant}/apps/{app}/revisions': {
        parameters: [tenantParam, appParam],
        get: op('Revision history, newest first', okList('RevisionView')),
      },
      '/tenants/{tenant}/apps/{app}/events': {
        parameters: [tenantParam, appParam],
        get: op(
          "The app's events (its Kubernetes objects' and Paved's changes), newest first, paged",
          ok('AppEventsPage'),
          { parameters: pageQuery },
        ),
      },
      '/tenants/{tenant}/apps/{app}/audit': {
        parameters: [tenantParam, appParam],
        get: op('Audit log of the app, newest first, paged', ok('AuditPage'), {
          parameters: pageQuery,
        }),
      },
      '/tenants/{tenant}/apps/{app}/logs': {
        parameters: [tenantParam, appParam],
        get: op(
          "The app's container logs, every instance, as Server-Sent Events",
          {
            status: '200',
            description:
              'text/event-stream: `event: line` (data: a LogLine), `event: notice` and `event: error` (data: {"message"}), `event: end` (not following: all lines sent); a `: keep-alive` comment every 15 s',
            content: {
              'text/event-stream': {
                schema: { type: 'string' },
                // Each event's data (OpenAPI 3.2's itemSchema; an extension in 3.1).
                'x-itemSchema': ref('LogLine'),
              },
            },
          },
          { parameters: logsQuery, errors: [...READ_ERRORS, '503'] },
        ),
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...Object.fromEntries(
          Object.entries(requestBodies).map(([name, schema]) => [
            name,
            jsonSchema(schema, 'input'),
          ]),
        ),
        ...Object.fromEntries(
          Object.entries(answers).map(([name, schema]) => [
            name,
            jsonSchema(schema, 'output'),
          ]),
        ),
      },
      responses: Object.fromEntries(
        Object.values(ERRORS).map(([name, description]) => [
          name,
          { description, content: json(ref('Error')) },
        ]),
      ),
    },
  };
}
