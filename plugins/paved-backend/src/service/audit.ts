/**
 * Backstage's auditor (`coreServices.auditor`) for every write of the API:
 * an event when the write starts and one when it is answered, `succeeded`
 * or `failed` with the error, with the actor (Backstage's own field), what
 * was acted on and through which client. It goes where a platform team's
 * other plugins send theirs (the root logger's audit events, or their own
 * auditor service); Paved's history table, which the UI reads, is kept as
 * before, by the services.
 */
import type {
  AuditorService,
  AuditorServiceEventSeverityLevel,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import type express from 'express';

/** An audited write: the event's id, severity and what it acts on. */
export interface AuditedWrite {
  /** `tenant-mutate`, `app-mutate` or `domain-mutate`. */
  eventId: string;
  severityLevel: AuditorServiceEventSeverityLevel;
  /** `actionType` (create, update, delete, deploy, env, pause, …) and the target's names. */
  meta: JsonObject;
}

/** Longest name kept from a path or body: the rest is not a name anyway. */
const NAME_MAX = 64;

function nameOf(segment: string): string {
  let name = segment;
  try {
    name = decodeURIComponent(segment);
  } catch {
    // A malformed escape is answered 400; audit it as sent.
  }
  return name.length > NAME_MAX ? `${name.slice(0, NAME_MAX)}…` : name;
}

const APP_ACTIONS = new Set(['pause', 'resume', 'redeploy', 'rollback']);

/**
 * What a write to `path` (under the plugin's mount) acts on, or undefined
 * when no write route has that shape (it is answered 404 or 405, and acts on
 * nothing).
 */
export function auditedWrite(
  method: string,
  path: string,
): AuditedWrite | undefined {
  const [root, tenantSegment, apps, appSegment, sub, domainSegment, ...rest] =
    path.split('/').filter(Boolean);
  if (root !== 'tenants' || rest.length) return undefined;
  if (tenantSegment === undefined) {
    return method === 'POST'
      ? {
          eventId: 'tenant-mutate',
          severityLevel: 'low',
          meta: { actionType: 'create' },
        }
      : undefined;
  }
  const tenant = nameOf(tenantSegment);
  if (apps === undefined) {
    if (method === 'PATCH') {
      return {
        eventId: 'tenant-mutate',
        severityLevel: 'low',
        meta: { actionType: 'update', tenant },
      };
    }
    if (method === 'DELETE') {
      return {
        eventId: 'tenant-mutate',
        severityLevel: 'medium',
        meta: { actionType: 'delete', tenant },
      };
    }
    return undefined;
  }
  if (apps !== 'apps' || appSegment === undefined) return undefined;
  const app = nameOf(appSegment);
  const appEvent = (
    actionType: string,
    severityLevel: AuditorServiceEventSeverityLevel = 'low',
  ): AuditedWrite => ({
    eventId: 'app-mutate',
    severityLevel,
    meta: { actionType, tenant, app },
  });
  if (sub === undefined) {
    if (method === 'PUT') return appEvent('deploy');
    if (method === 'DELETE') return appEvent('delete', 'medium');
    return undefined;
  }
  if (domainSegment === undefined) {
    if (sub === 'env' && method === 'PATCH') return appEvent('env');
    if (APP_ACTIONS.has(sub) && method === 'POST') return appEvent(sub);
    return undefined;
  }
  if (sub === 'domains' && (method === 'PUT' || method === 'DELETE')) {
    return {
      eventId: 'domain-mutate',
      severityLevel: 'low',
      meta: {
        actionType: method === 'PUT' ? 'put' : 'delete',
        tenant,
        app,
        domain: nameOf(domainSegment),
      },
    };
  }
  return undefined;
}

/** Where the error handler leaves the error a request was answered with. */
const ANSWERED_ERROR = 'pavedError';

/** Keeps the error an answer was made of, for the audit event's failure. */
export function noteAnsweredError(res: express.Response, error: unknown) {
  res.locals[ANSWERED_ERROR] = error;
}

/**
 * Starts the audit event of a write (after its credentials were checked: the
 * auditor reads the actor from them) and ends it when the answer is sent:
 * `succeeded` below 400, else `failed` with the error the answer was made
 * of. A request the client gave up on before its answer fails too.
 */
export async function auditWrite(options: {
  auditor: AuditorService;
  logger: LoggerService;
  req: express.Request;
  res: express.Response;
  write: AuditedWrite;
  /** The client the request came through (ui, cli, template, api, token). */
  via: string;
}): Promise<void> {
  const { auditor, logger, req, res, write } = options;
  const warn = (error: unknown) =>
    logger.warn(
      `Could not record the audit event of ${req.method} ${req.originalUrl}: ${error}`,
    );
  const event = await auditor.createEvent({
    eventId: write.eventId,
    severityLevel: write.severityLevel,
    request: req,
    meta: { ...write.meta, via: options.via },
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    const status = res.statusCode;
    // A tenant's name is in the create request's body, not its path.
    const named =
      write.meta.actionType === 'create' && typeof req.body?.name === 'string'
        ? { tenant: nameOf(req.body.name) }
        : {};
    if (res.writableFinished && status < 400) {
      event.success({ meta: { ...named, status } }).catch(warn);
      return;
    }
    const error = res.locals[ANSWERED_ERROR];
    event
      .fail({
        error:
          error instanceof Error
            ? error
            : new Error(
                res.writableFinished
                  ? `answered ${status}`
                  : 'the client closed the connection before the answer',
              ),
        meta: { ...named, status },
      })
      .catch(warn);
  };
  res.once('finish', end);
  res.once('close', end);
}
