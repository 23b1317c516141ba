/**
 * Publishes the status changes the watch-fed StatusCache sees on Backstage
 * signals (`@backstage/plugin-signals-node`), so that open pages and the
 * CLI-less clients of a team's Backstage refresh at the change instead of
 * polling. Each message is a hint to read again (the read applies the
 * permissions), sent only to the tenant's owner group and the platform
 * admins (`paved.permissions.admins`); a tenant the cache does not know
 * yet goes to the admins alone. Every replica watches the cluster, so each
 * tells its own connections.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  PavedStatusSignal,
  TENANTS_SIGNAL_CHANNEL,
  appSignalChannel,
  tenantSignalChannel,
} from '@paved/plugin-paved-common';
import type { Change, StatusCache } from '../cluster/StatusCache';

type Resource = Change['resource'];

/** What a page shows of a resource: a change elsewhere is not a signal. */
function shown(resource: Resource | undefined): string {
  if (!resource) return '';
  return JSON.stringify([
    resource.status ?? null,
    resource.metadata.generation ?? null,
    Boolean(resource.metadata.deletionTimestamp),
  ]);
}

export class StatusSignals {
  constructor(
    private readonly options: {
      signals: SignalsService;
      cache: Pick<StatusCache, 'tenant'>;
      /** Platform admins' group refs (they see every tenant). */
      admins: () => string[];
      logger: LoggerService;
      /** Told of each message sent (metrics). */
      onPublished?: (kind: PavedStatusSignal['kind']) => void;
    },
  ) {}

  /** A StatusCache listener. */
  handle(change: Change): void {
    if (change.event === 'listed' && !change.previous) return;
    if (
      change.event !== 'deleted' &&
      change.previous &&
      shown(change.previous) === shown(change.resource)
    ) {
      return;
    }
    const tenant = change.kind === 'tenant' ? change.name : change.tenant;
    if (!tenant) return;
    const owner =
      change.kind === 'tenant'
        ? change.resource.spec?.owner
        : this.options.cache.tenant(tenant).resource?.spec?.owner;
    const recipients = [
      ...new Set([...(owner ? [owner] : []), ...this.options.admins()]),
    ];
    if (!recipients.length) return;
    const message: PavedStatusSignal =
      change.kind === 'tenant'
        ? { kind: 'tenant', tenant }
        : { kind: 'app', tenant, app: change.name };
    const channels =
      change.kind === 'tenant'
        ? [tenantSignalChannel(tenant), TENANTS_SIGNAL_CHANNEL]
        : [appSignalChannel(tenant, change.name), tenantSignalChannel(tenant)];
    for (const channel of channels) {
      this.options.signals
        .publish({
          recipients: { type: 'user', entityRef: recipients },
          channel,
          message,
        })
        .then(() => this.options.onPublished?.(message.kind))
        .catch(error =>
          this.options.logger.warn(
            `Could not publish the signal on ${channel}: ${error}`,
          ),
        );
    }
  }
}
