import { ANNOTATION_REDEPLOY, appSpecSchema } from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';
import {
  ANNOTATION_BACKEND_GENERATION,
  appResource,
  appSecretResource,
  tenantResource,
} from './resources';

const tenant: TenantRecord = {
  name: 'acme',
  displayName: 'Acme',
  owner: 'group:default/team-a',
  plan: 'pro',
  limits: { maxApps: 3 },
  networkIsolation: false,
  generation: 4,
  appliedGeneration: 3,
  deleting: false,
  createdBy: 'user:default/alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const app: AppRecord = {
  tenant: 'acme',
  name: 'web',
  spec: appSpecSchema.parse({ image: 'web:1' }),
  revision: 2,
  secretApplied: false,
  generation: 2,
  appliedGeneration: 1,
  deleting: false,
  createdBy: 'user:default/alice',
  updatedBy: 'user:default/alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('resources', () => {
  it('puts the resolved limits into the Tenant spec', () => {
    const resource = tenantResource(tenant, {
      cpu: '16',
      memory: '32Gi',
      maxApps: 3,
    });
    expect(resource.spec).toEqual({
      displayName: 'Acme',
      owner: 'group:default/team-a',
      plan: 'pro',
      limits: { cpu: '16', memory: '32Gi', maxApps: 3 },
      networkIsolation: false,
    });
    expect(resource.metadata.annotations).toEqual({
      [ANNOTATION_BACKEND_GENERATION]: '4',
    });
  });

  it('places the App in the tenant namespace, with the redeploy token only when set', () => {
    const plain = appResource(app);
    expect(plain.metadata.namespace).toBe('tenant-acme');
    expect(plain.metadata.annotations).not.toHaveProperty(ANNOTATION_REDEPLOY);
    const custom = appResource({ ...app, redeployToken: 'abc' }, 'team-');
    expect(custom.metadata.namespace).toBe('team-acme');
    expect(custom.metadata.annotations[ANNOTATION_REDEPLOY]).toBe('abc');
  });

  it('base64-encodes secret values into data', () => {
    const secret = appSecretResource(app, new Map([['TOKEN', 'hünter2']]));
    expect(secret.metadata.name).toBe('web-paved-env');
    expect(Buffer.from(secret.data.TOKEN, 'base64').toString('utf8')).toBe(
      'hünter2',
    );
  });
});
