import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
} from '@backstage/catalog-model';
import type {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import {
  ANNOTATION_APP,
  appEntityName,
  AppView,
  LABEL_BACKSTAGE_KUBERNETES_ID,
  PavedApiClient,
  TenantView,
} from '@paved/plugin-paved-common';

/** The Component entity of one app. */
export function appEntity(app: AppView, tenant: TenantView): Entity {
  const location = `paved:${app.ref}`;
  const links = app.status.url
    ? [{ url: app.status.url, title: 'Open the app', icon: 'dashboard' }]
    : [];
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: appEntityName(app.tenant, app.name),
      title: app.name,
      description: `${app.image} on tenant ${tenant.displayName}`,
      annotations: {
        [ANNOTATION_APP]: app.ref,
        [LABEL_BACKSTAGE_KUBERNETES_ID]: app.name,
        'backstage.io/kubernetes-namespace': app.namespace,
        [ANNOTATION_LOCATION]: location,
        [ANNOTATION_ORIGIN_LOCATION]: location,
      },
      tags: ['paved'],
      links,
    },
    spec: {
      type: 'service',
      lifecycle: 'production',
      owner: tenant.owner,
    },
  };
}

/**
 * Puts every Paved app into the catalog as a Component owned by its tenant's
 * owner group. Reads the Paved API with the catalog's own service token and
 * replaces the whole set (full mutation) whenever it changed, so a deleted
 * app's entity goes away on the next refresh.
 */
export class PavedEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  private lastApplied?: string;

  constructor(
    private readonly client: PavedApiClient,
    private readonly logger: LoggerService,
  ) {}

  getProviderName() {
    return 'paved-apps';
  }

  async connect(connection: EntityProviderConnection) {
    this.connection = connection;
  }

  /** Reads all apps and applies a full mutation if anything changed. */
  async refresh(): Promise<{ entities: number; changed: boolean }> {
    if (!this.connection)
      throw new Error('PavedEntityProvider is not connected');
    const [tenants, apps] = await Promise.all([
      this.client.listTenants(),
      this.client.listApps(),
    ]);
    const byName = new Map(tenants.items.map(t => [t.name, t]));
    const entities = apps.items
      .filter(app => byName.has(app.tenant))
      .map(app => appEntity(app, byName.get(app.tenant)!));
    const fingerprint = JSON.stringify(entities);
    if (fingerprint === this.lastApplied) {
      return { entities: entities.length, changed: false };
    }
    await this.connection.applyMutation({
      type: 'full',
      entities: entities.map(entity => ({
        entity,
        locationKey: `paved-apps`,
      })),
    });
    this.lastApplied = fingerprint;
    this.logger.info(`Paved: ${entities.length} app entities in the catalog`);
    return { entities: entities.length, changed: true };
  }
}
