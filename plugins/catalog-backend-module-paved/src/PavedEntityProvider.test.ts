import type { AppView, TenantView } from '@paved/plugin-paved-common';
import { appEntity } from './PavedEntityProvider';

const tenant = {
  name: 'acme',
  displayName: 'Acme',
  owner: 'group:default/team-a',
} as TenantView;

const app = {
  tenant: 'acme',
  name: 'web',
  ref: 'acme/web',
  namespace: 'tenant-acme',
  image: 'ghcr.io/acme/web:1.0.0',
  status: { known: true, url: 'https://web.acme.example.com' },
} as AppView;

describe('appEntity', () => {
  it('is a Component named <tenant>-<app>, owned by the owner group, linking to the URL', () => {
    const entity = appEntity(app, tenant);
    expect(entity.metadata.name).toBe('acme-web');
    expect(entity.metadata.annotations).toMatchObject({
      'paved.dev/app': 'acme/web',
      'backstage.io/kubernetes-id': 'web',
      'backstage.io/kubernetes-namespace': 'tenant-acme',
    });
    expect(entity.metadata.links).toEqual([
      {
        url: 'https://web.acme.example.com',
        title: 'Open the app',
        icon: 'dashboard',
      },
    ]);
    expect(entity.spec).toEqual({
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/team-a',
    });
  });

  it('has no link before the app has a URL', () => {
    const entity = appEntity({ ...app, status: { known: false } }, tenant);
    expect(entity.metadata.links).toEqual([]);
  });
});
