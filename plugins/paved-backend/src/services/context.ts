import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  PAVED_CLIENTS,
  PAVED_CLIENT_HEADER,
  Plan,
  PavedClient,
} from '@paved/plugin-paved-common';
import type { z } from 'zod';
import type { KubeClient } from '@paved/kube';
import type { ClusterSync } from '../cluster/ClusterSync';
import type { StatusCache } from '../cluster/StatusCache';
import type { AppChanges } from './appChanges';
import type { Actor, PavedStore } from '../database/PavedStore';
import type { TenantAccess } from '../permissions/TenantAccess';
import type { ViewContext } from '../service/views';

/** How long a write waits for its apply before answering (it continues in the background). */
export const SYNC_WAIT_MS = 3000;

/** What the services are built from (the router's options, less HTTP). */
export interface ServiceOptions {
  store: PavedStore;
  access: TenantAccess;
  sync: ClusterSync;
  cache?: StatusCache;
  /** Wakes long polls of app reads. */
  appChanges: AppChanges;
  /** The cluster's API, for logs and events (absent: no cluster configured). */
  kube?: KubeClient;
  plans: () => Plan[];
  namespacePrefix?: string;
  logger: LoggerService;
}

/** A parsed request body: what the router hands a service. */
export type Parsed<S extends z.ZodType> = z.output<S>;

/** The client each request's credentials came through, as the request said. */
const clients = new WeakMap<BackstageCredentials, PavedClient>();

/**
 * Notes the client a request names in its `x-paved-client` header (ui,
 * template, cli) for the audit log; any other value is refused (400).
 */
export function noteClient(
  credentials: BackstageCredentials,
  header: string | undefined,
): void {
  if (header === undefined) return;
  if (!(PAVED_CLIENTS as readonly string[]).includes(header)) {
    throw new InputError(
      `Invalid ${PAVED_CLIENT_HEADER} header "${header.slice(
        0,
        40,
      )}": say ${PAVED_CLIENTS.join(', ')}, or leave it out`,
    );
  }
  clients.set(credentials, header as PavedClient);
}

/** Who made a change, and through which client, for the audit log and the revision history. */
export function actorOf(credentials: BackstageCredentials): Actor {
  const principal = credentials.principal as any;
  const client = clients.get(credentials);
  if (principal.type === 'user') {
    return {
      ref: principal.userEntityRef,
      principalType: 'user',
      via: client ?? 'api',
    };
  }
  if (principal.type === 'service') {
    return {
      ref: `service:${principal.subject}`,
      principalType: 'service',
      via: client ?? 'token',
    };
  }
  return { ref: 'anonymous', principalType: 'none', via: client ?? 'api' };
}

/** The parts both services share: plans, views, and the wait for an apply. */
export class ServiceContext {
  readonly views: ViewContext;

  constructor(readonly options: ServiceOptions) {
    this.views = {
      plans: options.plans,
      cache: options.cache,
      namespacePrefix: options.namespacePrefix,
    };
  }

  planNamed(name: string): Plan {
    const plans = this.options.plans();
    const plan = plans.find(p => p.name === name);
    if (!plan) {
      throw new InputError(
        `Invalid plan: "${name}" is not a plan; choose one of ${plans
          .map(p => p.name)
          .join(', ')}`,
      );
    }
    return plan;
  }

  /**
   * Waits briefly for an apply so the answer usually shows it done; its
   * result when it finished in that time, else (or if it failed) undefined.
   */
  async settle<T>(work: Promise<T>): Promise<T | undefined> {
    const sync$ = work.catch(error => {
      this.options.logger.warn(`Background sync failed: ${error}`);
      return undefined;
    });
    return Promise.race([
      sync$,
      new Promise<undefined>(resolve => {
        setTimeout(() => resolve(undefined), SYNC_WAIT_MS).unref();
      }),
    ]);
  }
}
