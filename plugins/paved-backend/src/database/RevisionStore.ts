import type { AppSpec } from '@paved/plugin-paved-common';
import type { Knex } from 'knex';
import {
  Actor,
  AppAction,
  PavedRevisionStore,
  REVISIONS_KEPT,
  RevisionRecord,
} from './PavedStore';
import { REVISIONS, toRevision } from './rows';

/** Every change of an app's config, for its history and rollback; the latest REVISIONS_KEPT per app are kept. */
export class RevisionStore implements PavedRevisionStore {
  constructor(private readonly db: Knex) {}

  async listRevisions(tenant: string, app: string): Promise<RevisionRecord[]> {
    const rows = await this.db(REVISIONS)
      .where({ tenant, app })
      .orderBy('revision', 'desc')
      .limit(REVISIONS_KEPT);
    return rows.map(toRevision);
  }

  async getRevision(
    tenant: string,
    app: string,
    revision: number,
  ): Promise<RevisionRecord | undefined> {
    const row = await this.db(REVISIONS)
      .where({ tenant, app, revision })
      .first();
    return row ? toRevision(row) : undefined;
  }

  /**
   * Records revision `revision` of an app in `tx`: one INSERT, and the
   * pruning DELETE only once the app has more than REVISIONS_KEPT (revisions
   * are numbered 1, 2, … with one per write, so none is older before that).
   */
  async record(
    tx: Knex.Transaction,
    entry: {
      tenant: string;
      app: string;
      revision: number;
      action: AppAction;
      spec: AppSpec;
      actor: Actor;
      at: string;
    },
  ): Promise<void> {
    const { tenant, app, revision } = entry;
    await tx(REVISIONS).insert({
      tenant,
      app,
      revision,
      action: entry.action,
      image: entry.spec.image,
      spec: JSON.stringify(entry.spec),
      actor: entry.actor.ref,
      created_at: entry.at,
    });
    if (revision > REVISIONS_KEPT) {
      await tx(REVISIONS)
        .where({ tenant, app })
        .andWhere('revision', '<=', revision - REVISIONS_KEPT)
        .delete();
    }
  }

  /** Drops an app's (or with no `app`, a tenant's) history in `tx`. */
  async purge(tx: Knex.Transaction, tenant: string, app?: string) {
    await tx(REVISIONS)
      .where(app === undefined ? { tenant } : { tenant, app })
      .delete();
  }
}
