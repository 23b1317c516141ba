/**
 * What happened to a tenant or an app: the audit log (who changed what,
 * when, and through which client), the app's events (Kubernetes' and
 * Paved's own, merged), and the history of deleted tenants. Lists are
 * paged newest first: an answer's `nextCursor`, passed back as `?cursor=`,
 * gives the next older page; no `nextCursor`, no more.
 */
import { z } from 'zod';
import { groupRefSchema, tenantNameSchema } from './schemas';
import { wholeNumberParam } from './query';

/** The clients that say who they are with the `x-paved-client` header. */
export const PAVED_CLIENTS = ['ui', 'template', 'cli'] as const;
export type PavedClient = (typeof PAVED_CLIENTS)[number];
/** The request header a client names itself in. */
export const PAVED_CLIENT_HEADER = 'x-paved-client';

/**
 * Where a change came from: the UI, a software template, the CLI (each
 * says so in `x-paved-client`), a script with a service token (`token`),
 * or a user's call to the API with none of those (`api`).
 */
export const auditViaSchema = z
  .enum([...PAVED_CLIENTS, 'api', 'token'])
  .describe(
    'Where the change came from: ui, template, cli (the x-paved-client header), token (a service token), api (anything else)',
  );
export type AuditVia = z.infer<typeof auditViaSchema>;

const timestamp = (what: string) =>
  z.string().meta({ format: 'date-time' }).describe(what);

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

/** What a page's `nextCursor` looks like (the only form `?cursor=` takes). */
export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{1,200}$';
/** What a deleted tenant's `uid` looks like (a UUID). */
export const DELETED_TENANT_UID_PATTERN = '^[a-z0-9-]{1,64}$';

/** `?limit=&cursor=` of the paged lists. */
export const pageQueryShape = {
  limit: wholeNumberParam('limit', 1, AUDIT_PAGE_MAX).optional(),
  cursor: z
    .string({ error: 'cursor must be given once' })
    .regex(new RegExp(CURSOR_PATTERN), {
      error:
        'cursor must be the nextCursor of a previous answer, passed back unchanged',
    })
    .optional(),
};

/** A page of a list (the audit log and events newest first; apps by tenant and name). */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .optional()
        .describe('Pass as ?cursor= for the next page; absent: no more'),
    })
    .strict();
}
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
export interface PageOptions {
  limit?: number;
  cursor?: string;
}

export const auditEntryViewSchema = z
  .object({
    id: z.number().int(),
    at: timestamp('When it happened'),
    actor: z
      .string()
      .describe(
        'The user entity ref, or the service principal (service:<subject>)',
      ),
    principalType: z.enum(['user', 'service', 'none']),
    via: auditViaSchema,
    action: z.string(),
    tenant: z.string(),
    app: z.string().optional(),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type AuditEntryView = z.infer<typeof auditEntryViewSchema>;
export const auditPageSchema = pageSchema(auditEntryViewSchema);

/** One thing that happened to an app, from Kubernetes or from Paved. */
export const appEventSchema = z
  .object({
    time: timestamp('When it happened (the last time, for a repeated event)'),
    type: z.enum(['Normal', 'Warning']),
    reason: z
      .string()
      .describe(
        "Kubernetes' reason (Pulled, BackOff, …) or Paved's action (app.deploy, …)",
      ),
    message: z.string(),
    source: z
      .enum(['kubernetes', 'paved'])
      .describe(
        "kubernetes: an Event of the app's objects; paved: a change made through Paved, or the app's phase changing",
      ),
    object: z
      .object({ kind: z.string(), name: z.string() })
      .strict()
      .describe('What it happened to: Pod, Revision, Service, App, …'),
    count: z.number().int().min(1).describe('How many times it happened'),
    actor: z.string().optional().describe('Who made the change (paved only)'),
  })
  .strict();
export type AppEvent = z.infer<typeof appEventSchema>;
export const appEventsPageSchema = pageSchema(appEventSchema);

/** A tenant that was deleted, whose history is kept. */
export const deletedTenantViewSchema = z
  .object({
    uid: z
      .string()
      .describe('Identifies this tenant among others of the same name'),
    name: tenantNameSchema,
    displayName: z.string(),
    owner: groupRefSchema,
    createdAt: timestamp('When it was created'),
    deletedAt: timestamp('When it was deleted'),
  })
  .strict();
export type DeletedTenantView = z.infer<typeof deletedTenantViewSchema>;
