/**
 * The OpenAPI 3.1 document of the REST API. Request bodies are generated
 * from the same zod schemas that validate them; the committed
 * `openapi.json` is checked against this by openapi.test.ts.
 */
import { z } from 'zod';
import {
  createTenantRequestSchema,
  deployAppRequestSchema,
  emptyRequestSchema,
  patchEnvRequestSchema,
  rollbackRequestSchema,
  updateTenantRequestSchema,
} from './requests';

function schema(zod: z.ZodType) {
  const json = z.toJSONSchema(zod, { io: 'input', unrepresentable: 'any' });
  delete (json as any).$schema;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: unknown) => ({ 'application/json': { schema: s } });
const list = (name: string) =>
  json({
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref(name) } },
  });

const errors = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
  '404': { $ref: '#/components/responses/NotFound' },
  '405': { $ref: '#/components/responses/MethodNotAllowed' },
};
const writeErrors = {
  ...errors,
  '409': { $ref: '#/components/responses/Conflict' },
  '413': { $ref: '#/components/responses/TooLarge' },
  '415': { $ref: '#/components/responses/UnsupportedMediaType' },
  '429': { $ref: '#/components/responses/TooManyRequests' },
};

/** DELETE takes no body; its optimistic-concurrency check is a query parameter. */
const expectedGenerationQuery = {
  name: 'expectedGeneration',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 0 },
  description:
    'The generation you last read; the delete fails with 409 if the object changed since',
};

const tenantParam = {
  name: 'tenant',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Tenant name',
};
const appParam = {
  name: 'app',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'App name',
};

function op(
  summary: string,
  response: { status: string; content?: unknown; description?: string },
  extra: {
    body?: unknown;
    optionalBody?: unknown;
    write?: boolean;
    query?: unknown[];
  } = {},
) {
  return {
    summary,
    ...(extra.query ? { parameters: extra.query } : {}),
    ...(extra.body
      ? { requestBody: { required: true, content: json(extra.body) } }
      : {}),
    ...(extra.optionalBody
      ? {
          requestBody: {
            required: false,
            content: json(extra.optionalBody),
          },
        }
      : {}),
    responses: {
      [response.status]: {
        description: response.description ?? 'OK',
        ...(response.content ? { content: response.content } : {}),
      },
      ...(extra.write ? writeErrors : errors),
    },
  };
}

const appAction = (summary: string, body?: unknown) =>
  op(
    summary,
    { status: '200', content: json(ref('AppView')) },
    body
      ? { write: true, body }
      : {
          write: true,
          // Optional: no body, or one with only expectedGeneration.
          optionalBody: ref('EmptyRequest'),
        },
  );

export function openApiDocument() {
  const syncView = {
    type: 'object',
    description: 'Whether the cluster accepted the latest write',
    properties: {
      generation: { type: 'integer' },
      appliedGeneration: { type: 'integer' },
      pending: { type: 'boolean' },
      lastError: { type: 'string' },
    },
  };
  const status = {
    type: 'object',
    description:
      'Status from the cluster, read from a watch-fed cache; known is false when the cluster has not told',
    required: ['known'],
    properties: { known: { type: 'boolean' } },
    additionalProperties: true,
  };
  return {
    openapi: '3.1.0',
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
        get: op('List the plans', { status: '200', content: list('Plan') }),
      },
      '/tenants': {
        get: op('List the tenants you can see', {
          status: '200',
          content: list('TenantView'),
        }),
        post: op(
          'Create a tenant',
          { status: '201', content: json(ref('TenantView')) },
          { body: ref('CreateTenantRequest'), write: true },
        ),
      },
      '/tenants/{tenant}': {
        parameters: [tenantParam],
        get: op('Get a tenant', {
          status: '200',
          content: json(ref('TenantView')),
        }),
        patch: op(
          'Change display name, plan, limits or isolation',
          { status: '200', content: json(ref('TenantView')) },
          { body: ref('UpdateTenantRequest'), write: true },
        ),
        delete: op(
          'Delete a tenant and its apps',
          { status: '202', description: 'Deletion accepted' },
          { write: true, query: [expectedGenerationQuery] },
        ),
      },
      '/tenants/{tenant}/audit': {
        parameters: [tenantParam],
        get: op('Audit log of the tenant and its apps', {
          status: '200',
          content: list('AuditEntryView'),
        }),
      },
      '/apps': {
        get: op('List the apps of every tenant you can see', {
          status: '200',
          content: list('AppView'),
        }),
      },
      '/tenants/{tenant}/apps': {
        parameters: [tenantParam],
        get: op('List the apps of a tenant', {
          status: '200',
          content: list('AppView'),
        }),
      },
      '/tenants/{tenant}/apps/{app}': {
        parameters: [tenantParam, appParam],
        get: op('Get an app', { status: '200', content: json(ref('AppView')) }),
        put: {
          ...op(
            'Deploy an app: create it (201) or replace its config (200)',
            { status: '200', content: json(ref('AppView')) },
            { body: ref('DeployAppRequest'), write: true },
          ),
        },
        delete: op(
          'Delete an app',
          { status: '202', description: 'Deletion accepted' },
          { write: true, query: [expectedGenerationQuery] },
        ),
      },
      '/tenants/{tenant}/apps/{app}/env': {
        parameters: [tenantParam, appParam],
        patch: appAction('Set or remove env vars', ref('PatchEnvRequest')),
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
          ref('RollbackRequest'),
        ),
      },
      '/tenants/{tenant}/apps/{app}/revisions': {
        parameters: [tenantParam, appParam],
        get: op('Revision history, newest first', {
          status: '200',
          content: list('RevisionView'),
        }),
      },
      '/tenants/{tenant}/apps/{app}/events': {
        parameters: [tenantParam, appParam],
        get: op('Phase, message and conditions from the cluster', {
          status: '200',
          content: json({ type: 'object' }),
        }),
      },
      '/tenants/{tenant}/apps/{app}/audit': {
        parameters: [tenantParam, appParam],
        get: op('Audit log of the app', {
          status: '200',
          content: list('AuditEntryView'),
        }),
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        CreateTenantRequest: schema(createTenantRequestSchema),
        UpdateTenantRequest: schema(updateTenantRequestSchema),
        DeployAppRequest: schema(deployAppRequestSchema),
        PatchEnvRequest: schema(patchEnvRequestSchema),
        RollbackRequest: schema(rollbackRequestSchema),
        EmptyRequest: schema(emptyRequestSchema.unwrap()),
        Plan: {
          type: 'object',
          required: ['name', 'description', 'cpu', 'memory', 'maxApps'],
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            cpu: { type: 'string' },
            memory: { type: 'string' },
            maxApps: { type: 'integer' },
          },
        },
        TenantView: {
          type: 'object',
          required: ['name', 'displayName', 'owner', 'plan', 'sync', 'status'],
          properties: {
            name: { type: 'string' },
            displayName: { type: 'string' },
            owner: { type: 'string' },
            plan: { type: 'string' },
            limits: { type: 'object' },
            effectiveLimits: ref('Plan'),
            networkIsolation: { type: 'boolean' },
            namespace: { type: 'string' },
            appCount: { type: 'integer' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            createdBy: { type: 'string' },
            sync: syncView,
            status,
          },
        },
        AppView: {
          type: 'object',
          required: ['tenant', 'name', 'ref', 'image', 'sync', 'status'],
          properties: {
            tenant: { type: 'string' },
            name: { type: 'string' },
            ref: { type: 'string', description: '<tenant>/<app>' },
            namespace: { type: 'string' },
            image: { type: 'string' },
            port: { type: 'integer' },
            env: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  value: {
                    type: 'string',
                    description: 'Masked (********) for secrets',
                  },
                  secret: { type: 'boolean' },
                },
              },
            },
            scaling: { type: 'object' },
            resources: { type: 'object' },
            domains: { type: 'array', items: { type: 'string' } },
            paused: { type: 'boolean' },
            revision: { type: 'integer' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            updatedBy: { type: 'string' },
            sync: syncView,
            status: {
              ...status,
              properties: {
                known: { type: 'boolean' },
                phase: { type: 'string' },
                url: { type: 'string' },
                message: { type: 'string' },
              },
            },
          },
        },
        RevisionView: {
          type: 'object',
          properties: {
            revision: { type: 'integer' },
            action: { type: 'string' },
            actor: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            image: { type: 'string' },
            config: { type: 'object' },
          },
        },
        AuditEntryView: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
            actor: { type: 'string' },
            principalType: { enum: ['user', 'service', 'none'] },
            action: { type: 'string' },
            tenant: { type: 'string' },
            app: { type: 'string' },
            detail: { type: 'object' },
          },
        },
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                message: {
                  type: 'string',
                  description: 'What is wrong and what to do about it',
                },
              },
            },
            response: {
              type: 'object',
              properties: { statusCode: { type: 'integer' } },
            },
          },
        },
      },
      responses: Object.fromEntries(
        [
          ['BadRequest', 'Invalid input; the message names each field'],
          ['Unauthorized', 'No valid Backstage token'],
          ['Forbidden', 'Not a member of the tenant owner group'],
          ['NotFound', 'No such tenant or app, or not visible to you'],
          ['Conflict', 'Changed concurrently, exists already, or plan limit'],
          [
            'MethodNotAllowed',
            'The path exists but not with this method; the Allow header lists those that do',
          ],
          [
            'TooLarge',
            'Request body over 256 KiB (after decompression), or the app would hold more than 128 KiB of env',
          ],
          [
            'UnsupportedMediaType',
            'The body is not JSON in UTF-8 sent as application/json, or its Content-Encoding is not identity, gzip or deflate',
          ],
          [
            'TooManyRequests',
            'Over the write rate limit of your identity (paved.rateLimit); Retry-After says when to retry',
          ],
        ].map(([name, description]) => [
          name,
          { description, content: json(ref('Error')) },
        ]),
      ),
    },
  };
}
