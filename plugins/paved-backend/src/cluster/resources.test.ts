import {
  ANNOTATION_REDEPLOY,
  FINALIZER_APP,
  FINALIZER_TENANT,
  appSpecSchema,
} from '@paved/plugin-paved-common';
import type { AppRecord, TenantRecord } from '../database/PavedStore';
import { appView } from '../service/views';
import type { StatusCache } from './StatusCache';
import {
  ANNOTATION_BACKEND_GENERATION,
  appResource,
  appSecretResource,
  covers,
  matchesDesired,
  secretKeysOf,
  tenantResource,
} from './resources';

const tenant: TenantRecord = {
  name: 'acme',
  uid: '6f1c2e0a-0000-4000-8000-000000000001',
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

  it("carries the operator's finalizer in each CR, so the operator adds none with a request of its own", () => {
    expect(
      tenantResource(tenant, { cpu: '1', memory: '1Gi', maxApps: 3 }).metadata
        .finalizers,
    ).toEqual([FINALIZER_TENANT]);
    expect(appResource(app).metadata.finalizers).toEqual([FINALIZER_APP]);
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

describe('drift comparison', () => {
  const limits = { cpu: '16', memory: '32Gi', maxApps: 3 };

  it('finds nothing when the cluster has what the backend applies, plus defaults, status and other fields', () => {
    const desired = appResource(app);
    const live = {
      ...JSON.parse(JSON.stringify(desired)),
      status: { phase: 'Ready' },
    };
    live.metadata.annotations['kubectl.kubernetes.io/last-applied'] = '{}';
    live.metadata.labels.extra = 'x';
    live.metadata.generation = 7;
    live.spec.extraFieldOfAnotherManager = true;
    expect(matchesDesired(live, desired)).toBe(true);
    // An empty list or map the server left out is no drift.
    delete live.spec.env;
    delete live.spec.domains;
    expect(matchesDesired(live, desired)).toBe(true);
  });

  it('finds a missing object, a changed spec field, label or annotation', () => {
    const desired = tenantResource({ ...tenant, appliedGeneration: 4 }, limits);
    const copy = () => JSON.parse(JSON.stringify(desired));
    expect(matchesDesired(undefined, desired)).toBe(false);
    expect(matchesDesired(copy(), desired)).toBe(true);

    const owner = copy();
    owner.spec.owner = 'group:default/mallory';
    expect(matchesDesired(owner, desired)).toBe(false);

    const plan = copy();
    plan.spec.limits.cpu = '64';
    expect(matchesDesired(plan, desired)).toBe(false);

    const label = copy();
    delete label.metadata.labels['paved.dev/tenant'];
    expect(matchesDesired(label, desired)).toBe(false);

    const annotation = copy();
    annotation.metadata.annotations[ANNOTATION_BACKEND_GENERATION] = '3';
    expect(matchesDesired(annotation, desired)).toBe(false);
  });

  it('compares lists element by element and by length', () => {
    expect(covers([{ a: 1, b: 2 }], [{ a: 1 }])).toBe(true);
    expect(covers([{ a: 1 }, { a: 2 }], [{ a: 1 }])).toBe(false);
    expect(covers([{ a: 2 }], [{ a: 1 }])).toBe(false);
    expect(covers(undefined, [])).toBe(true);
    expect(covers(undefined, [1])).toBe(false);
    expect(covers('1', 1)).toBe(false);
  });

  it("knows the keys an app's Secret must hold", () => {
    const withSecret: AppRecord = {
      ...app,
      spec: appSpecSchema.parse({
        image: 'web:1',
        env: [
          { name: 'MODE', value: 'prod' },
          {
            name: 'TOKEN',
            secretKeyRef: { name: 'web-paved-env', key: 'TOKEN' },
          },
        ],
      }),
    };
    expect(secretKeysOf(withSecret)).toEqual(['TOKEN']);
    expect(secretKeysOf(app)).toEqual([]);
  });
});

describe('the app view of a cached App', () => {
  /** The cache holding the App as applied from `applied`, observed by the operator. */
  const viewWith = (applied: AppRecord) => {
    const resource: any = {
      ...appResource(applied),
      metadata: { ...appResource(applied).metadata, generation: 7 },
      status: { phase: 'Ready', observedGeneration: 7 },
    };
    const cache = {
      app: () => ({ known: true, resource }),
    } as unknown as StatusCache;
    return appView(app, { plans: () => [], cache });
  };

  it('is current only once the cache holds the App applied from the saved generation', () => {
    // A write saved generation 2; the watch still has the App of generation 1.
    const stale = viewWith({ ...app, generation: 1 });
    expect(stale.status).toMatchObject({ known: true, phase: 'Ready' });
    expect(stale.status.current).toBeUndefined();
    expect(viewWith(app).status.current).toBe(true);
  });
});
