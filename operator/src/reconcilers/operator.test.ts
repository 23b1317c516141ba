import {
  LIMIT_RANGE,
  RESOURCE_QUOTA,
  ISOLATION_POLICY,
} from '../desired/names';
import {
  Informer,
  APPS,
  CAPSULE_TENANTS,
  CILIUM_NETWORK_POLICIES,
  CLUSTER_DOMAIN_CLAIMS,
  DOMAIN_MAPPINGS,
  KNATIVE_SERVICES,
  LIMIT_RANGES,
  NAMESPACES,
  NETWORK_POLICIES,
  RESOURCE_QUOTAS,
  REVISIONS,
  ROLE_BINDINGS,
  TENANTS,
} from '@paved/kube';
import { QUICK_SCALE_TO_ZERO } from '../__testUtils__/cluster';
import {
  eventually,
  EXAMPLE_APP_IMAGE,
  requestThroughIngress,
} from '@paved/test-cluster';
import { useOperatorSuite } from '../__testUtils__/operatorSuite';
import {
  applyApp,
  applyTenant,
  startOperator,
  statusOf,
} from '../__testUtils__/operatorHarness';

jest.setTimeout(240_000);

// Against real Knative Serving on a real node: URLs answer, revisions are
// Knative's own, failures are the kubelet's.
describe('Operator with Knative, Capsule and Cilium installed', () => {
  const handle = useOperatorSuite({
    cluster: { dataPlane: QUICK_SCALE_TO_ZERO },
    operator: {},
  });

  const client = () => handle.client;
  const tenantActive = (name: string) =>
    eventually(`tenant ${name} Active`, async () => {
      const t = await client().get(TENANTS, name);
      return statusOf(t).phase === 'Active' && t;
    });
  const appPhase = (ns: string, name: string, phase: string) =>
    eventually(
      `app ${ns}/${name} ${phase}`,
      async () => {
        const a = await client().get(APPS, name, ns);
        return (
          statusOf(a).phase === phase &&
          statusOf(a).observedGeneration === a.metadata.generation &&
          a
        );
      },
      180_000,
    );
  const revisions = async (ns: string, app: string) =>
    (
      await client().list(REVISIONS, {
        namespace: ns,
        labelSelector: `serving.knative.dev/service=${app}`,
      })
    ).items
      .map(r => r.metadata.name)
      .sort();

  it('provisions a tenant: namespace, Capsule tenant, Cilium policy, quota', async () => {
    await applyTenant(client(), 'alpha', {
      plan: 'starter',
      limits: { maxApps: 4 },
    });
    const tenant = await tenantActive('alpha');
    const status = statusOf(tenant);
    expect(status.namespace).toBe('tenant-alpha');
    expect(status.observedGeneration).toBe(tenant.metadata.generation);
    expect(
      status.conditions.map((c: any) => [c.type, c.status]).sort(),
    ).toEqual([
      ['NamespaceReady', 'True'],
      ['NetworkPolicyReady', 'True'],
      ['QuotaReady', 'True'],
      ['RBACReady', 'True'],
      ['Ready', 'True'],
    ]);
    expect(tenant.metadata.finalizers).toContain('paved.dev/tenant-cleanup');

    const ns = await client().get(NAMESPACES, 'tenant-alpha');
    expect(ns.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'paved',
      'paved.dev/tenant': 'alpha',
      'capsule.clastix.io/tenant': 'alpha',
    });
    const capsule = (await client().get(CAPSULE_TENANTS, 'alpha')) as any;
    expect(capsule.spec.owners[0]).toMatchObject({
      kind: 'Group',
      name: 'team-a',
    });
    const cnp = (await client().get(
      CILIUM_NETWORK_POLICIES,
      ISOLATION_POLICY,
      'tenant-alpha',
    )) as any;
    expect(
      cnp.spec.egress.some((r: any) =>
        r.toCIDRSet?.[0]?.except?.includes('169.254.0.0/16'),
      ),
    ).toBe(true);
    expect(
      await client().tryGet(NETWORK_POLICIES, ISOLATION_POLICY, 'tenant-alpha'),
    ).toBeUndefined();
    expect(
      await client().tryGet(ROLE_BINDINGS, 'paved-owners', 'tenant-alpha'),
    ).toBeUndefined();
    const quota = (await client().get(
      RESOURCE_QUOTAS,
      RESOURCE_QUOTA,
      'tenant-alpha',
    )) as any;
    expect(quota.spec.hard).toMatchObject({
      'requests.cpu': '4',
      'requests.memory': '8Gi',
    });
    expect(
      await client().get(LIMIT_RANGES, LIMIT_RANGE, 'tenant-alpha'),
    ).toBeDefined();
    // kube-controller-manager fills in the quota status; the tenant reports it.
    const withUsage = await eventually('usage from quota status', async () => {
      const t = await client().get(TENANTS, 'alpha');
      return statusOf(t).usage?.cpu?.hard === '4' && t;
    });
    expect(statusOf(withUsage).usage.apps).toEqual({ used: '0', hard: '4' });
  });

  it('deploys an app to Ready with a URL, and cuts a revision only on change', async () => {
    await applyApp(client(), 'alpha', 'web', {
      scaling: { minInstances: 1, maxInstances: 3 },
    });
    const ready = await appPhase('tenant-alpha', 'web', 'Ready');
    const status = statusOf(ready);
    expect(status.url).toBe('http://web.tenant-alpha.localhost');
    // The URL answers, from the example app's own container.
    const answer = await requestThroughIngress(
      handle.cluster.dataPlane!,
      status.url,
    );
    expect(answer.body).toMatch(/^Hello, world!/);
    expect(status.latestReadyRevision).toBe('web-00001');
    expect(status.instances).toEqual({ desired: 1, ready: 1 });
    expect(status.conditions.find((c: any) => c.type === 'Ready').status).toBe(
      'True',
    );
    expect(ready.metadata.finalizers).toContain('paved.dev/app-cleanup');
    const ksvc = (await client().get(
      KNATIVE_SERVICES,
      'web',
      'tenant-alpha',
    )) as any;
    expect(
      ksvc.spec.template.metadata.annotations[
        'autoscaling.knative.dev/max-scale'
      ],
    ).toBe('3');
    expect(ksvc.metadata.labels['backstage.io/kubernetes-id']).toBe('web');

    // The backend applies the same spec again: nothing changes.
    const before = ksvc.metadata.generation;
    await applyApp(client(), 'alpha', 'web', {
      scaling: { minInstances: 1, maxInstances: 3 },
    });
    // An unchanged apply brings no event at all. To know the operator has
    // looked at the app since, touch its Service (an annotation: no new
    // generation) and wait for the app's reconcile that this wakes.
    const reconciled = handle.operator.reconciled('app', 'tenant-alpha/web');
    await client().mergePatch(KNATIVE_SERVICES, 'web', 'tenant-alpha', {
      metadata: { annotations: { 'test.paved.dev/barrier': 'reapplied' } },
    });
    await reconciled;
    expect(
      (await client().get(KNATIVE_SERVICES, 'web', 'tenant-alpha')).metadata
        .generation,
    ).toBe(before);
    expect(await revisions('tenant-alpha', 'web')).toEqual(['web-00001']);
    // Ready stayed True, so its transition time did not move.
    const again = await client().get(APPS, 'web', 'tenant-alpha');
    const readyOf = (a: any) =>
      statusOf(a).conditions.find((c: any) => c.type === 'Ready');
    expect(readyOf(again)).toEqual(readyOf(ready));

    // A new tag of the image, as a registry push would make.
    const next = EXAMPLE_APP_IMAGE.replace(/:[^:]+$/, ':1.1.0');
    await handle.cluster.dataPlane!.tagImage(EXAMPLE_APP_IMAGE, next);
    await applyApp(client(), 'alpha', 'web', {
      image: next,
      scaling: { minInstances: 1, maxInstances: 3 },
    });
    const updated = await eventually(
      'second revision ready',
      async () => {
        const a = await client().get(APPS, 'web', 'tenant-alpha');
        return (
          statusOf(a).latestReadyRevision === 'web-00002' &&
          statusOf(a).phase === 'Ready' &&
          a
        );
      },
      180_000,
    );
    expect(statusOf(updated).latestCreatedRevision).toBe('web-00002');
    expect(await revisions('tenant-alpha', 'web')).toEqual([
      'web-00001',
      'web-00002',
    ]);
  });

  it('pauses an app by removing its Service and resumes it', async () => {
    await applyApp(client(), 'alpha', 'pausy', {
      domains: ['pausy.example.org'],
    });
    await appPhase('tenant-alpha', 'pausy', 'Ready');
    await applyApp(client(), 'alpha', 'pausy', {
      domains: ['pausy.example.org'],
      paused: true,
    });
    const paused = await appPhase('tenant-alpha', 'pausy', 'Paused');
    expect(statusOf(paused).url).toBeUndefined();
    expect(statusOf(paused).instances).toEqual({ desired: 0, ready: 0 });
    await eventually(
      'Service removed while paused',
      async () =>
        (await client().tryGet(KNATIVE_SERVICES, 'pausy', 'tenant-alpha')) ===
        undefined,
    );
    // Deleted before the Service, but Knative's finalizer on the mapping
    // may still be running when the Service is gone.
    await eventually(
      'DomainMapping removed while paused',
      async () =>
        (await client().tryGet(
          DOMAIN_MAPPINGS,
          'pausy.example.org',
          'tenant-alpha',
        )) === undefined,
    );

    // The Service is deleted in the background: its Configuration, Route
    // and Revisions go after it. A Service made again under the same name
    // before they are gone can wait on Knative for minutes (its first
    // Revision's name is taken), so resume once they are.
    for (const plural of ['configurations', 'routes', 'revisions']) {
      await eventually(`the paused app's ${plural} gone`, async () => {
        const left = await client().list(
          { ...REVISIONS, plural, kind: plural },
          {
            namespace: 'tenant-alpha',
            labelSelector: 'serving.knative.dev/service=pausy',
          },
        );
        return left.items.length === 0;
      });
    }

    await applyApp(client(), 'alpha', 'pausy', {
      domains: ['pausy.example.org'],
      paused: false,
    });
    const resumed = await appPhase('tenant-alpha', 'pausy', 'Ready');
    expect(statusOf(resumed).url).toBe('http://pausy.tenant-alpha.localhost');
    expect(
      await client().get(DOMAIN_MAPPINGS, 'pausy.example.org', 'tenant-alpha'),
    ).toBeDefined();
  });

  it('adds and removes DomainMappings with the domains', async () => {
    await applyApp(client(), 'alpha', 'site', {
      domains: ['a.example.org', 'b.example.org'],
    });
    await appPhase('tenant-alpha', 'site', 'Ready');
    const names = async () =>
      (
        await client().list(DOMAIN_MAPPINGS, {
          namespace: 'tenant-alpha',
          labelSelector: 'paved.dev/app=site',
        })
      ).items
        .map(m => m.metadata.name)
        .sort();
    expect(await names()).toEqual(['a.example.org', 'b.example.org']);
    const dm = (await client().get(
      DOMAIN_MAPPINGS,
      'a.example.org',
      'tenant-alpha',
    )) as any;
    expect(dm.spec.ref).toMatchObject({ kind: 'Service', name: 'site' });
    // Knative serves a mapping only for the namespace that claims the domain.
    expect(
      ((await client().get(CLUSTER_DOMAIN_CLAIMS, 'a.example.org')) as any)
        .spec,
    ).toEqual({ namespace: 'tenant-alpha' });
    await eventually(
      'DomainMapping Ready',
      async () => {
        const mapping = (await client().get(
          DOMAIN_MAPPINGS,
          'a.example.org',
          'tenant-alpha',
        )) as any;
        return mapping.status?.conditions?.find(
          (c: any) => c.type === 'Ready' && c.status === 'True',
        );
      },
      60_000,
    );
    const viaDomain = await requestThroughIngress(
      handle.cluster.dataPlane!,
      'http://a.example.org/',
    );
    expect(viaDomain.body).toMatch(/^Hello, world!/);

    await applyApp(client(), 'alpha', 'site', {
      domains: ['b.example.org', 'c.example.org'],
    });
    await eventually(
      'domains replaced',
      async () => (await names()).join() === 'b.example.org,c.example.org',
    );
    await applyApp(client(), 'alpha', 'site', { domains: [] });
    await eventually(
      'domains removed',
      async () => (await names()).length === 0,
    );
    await eventually(
      'claims released',
      async () =>
        (await client().tryGet(CLUSTER_DOMAIN_CLAIMS, 'b.example.org')) ===
        undefined,
    );
  });

  it("does not take a domain another tenant's namespace has claimed", async () => {
    await client().create(CLUSTER_DOMAIN_CLAIMS, {
      apiVersion: 'networking.internal.knative.dev/v1alpha1',
      kind: 'ClusterDomainClaim',
      metadata: { name: 'taken.example.org' },
      spec: { namespace: 'tenant-someone-else' },
    });
    await applyApp(client(), 'alpha', 'site', {
      domains: ['taken.example.org'],
    });
    const app = await eventually('DomainTaken', async () => {
      const a = await client().get(APPS, 'site', 'tenant-alpha');
      const domains = statusOf(a).conditions?.find(
        (c: any) => c.type === 'DomainsReady',
      );
      return domains?.reason === 'DomainTaken' && a;
    });
    // The owner reads why in the app's message.
    expect(statusOf(app).message).toBe(
      'taken.example.org is already used by another tenant; remove it from this app, or ask the platform team to release it',
    );
    expect(
      ((await client().get(CLUSTER_DOMAIN_CLAIMS, 'taken.example.org')) as any)
        .spec.namespace,
    ).toBe('tenant-someone-else');
    expect(
      await client().tryGet(
        DOMAIN_MAPPINGS,
        'taken.example.org',
        'tenant-alpha',
      ),
    ).toBeUndefined();
    await applyApp(client(), 'alpha', 'site', { domains: [] });
  });

  // alpha allows 4 apps: web, pausy and site exist, idle is the fourth.
  it('counts instances as Knative scales the app: one while it serves, none once idle', async () => {
    await applyApp(client(), 'alpha', 'idle');
    const ready = await appPhase('tenant-alpha', 'idle', 'Ready');
    await requestThroughIngress(handle.cluster.dataPlane!, statusOf(ready).url);
    const atZero = await eventually(
      'idle app at zero instances',
      async () => {
        const a = await client().get(APPS, 'idle', 'tenant-alpha');
        const { desired, ready: running } = statusOf(a).instances ?? {};
        return desired === 0 && running === 0 && a;
      },
      120_000,
    );
    expect(statusOf(atZero).instances).toEqual({ desired: 0, ready: 0 });
    await client().delete(APPS, 'idle', 'tenant-alpha');
    await eventually(
      'idle app deleted',
      async () =>
        (await client().tryGet(APPS, 'idle', 'tenant-alpha')) === undefined,
      120_000,
    );
  });

  it('explains an image that cannot be pulled in the app message', async () => {
    await applyApp(client(), 'alpha', 'broken', {
      image: 'registry.localhost/acme/doesnotexist:1.0.0',
    });
    const failed = await appPhase('tenant-alpha', 'broken', 'Failed');
    expect(statusOf(failed).message).toMatch(
      /^The image registry.localhost\/acme\/doesnotexist:1.0.0 could not be pulled/,
    );
    expect(
      statusOf(failed).conditions.find((c: any) => c.type === 'Ready'),
    ).toMatchObject({
      status: 'False',
      reason: 'RevisionFailed',
    });
  });

  it('holds back apps beyond maxApps until one is deleted', async () => {
    // alpha allows 4 apps: web, pausy, site and broken exist.
    await applyApp(client(), 'alpha', 'fifth');
    const held = await appPhase('tenant-alpha', 'fifth', 'Failed');
    expect(statusOf(held).message).toMatch(/allows 4 apps on plan starter/);
    expect(
      await client().tryGet(KNATIVE_SERVICES, 'fifth', 'tenant-alpha'),
    ).toBeUndefined();
    await client().delete(APPS, 'broken', 'tenant-alpha');
    await appPhase('tenant-alpha', 'fifth', 'Ready');
    const tenant = await eventually('app count 4', async () => {
      const t = await client().get(TENANTS, 'alpha');
      return statusOf(t).appCount === 4 && t;
    });
    expect(statusOf(tenant).usage.apps).toEqual({ used: '4', hard: '4' });
  });

  it('restores children deleted by hand', async () => {
    await tenantActive('alpha');
    const uid = (
      await client().get(RESOURCE_QUOTAS, RESOURCE_QUOTA, 'tenant-alpha')
    ).metadata.uid;
    await client().delete(RESOURCE_QUOTAS, RESOURCE_QUOTA, 'tenant-alpha');
    await client().delete(
      CILIUM_NETWORK_POLICIES,
      ISOLATION_POLICY,
      'tenant-alpha',
    );
    await client().delete(KNATIVE_SERVICES, 'web', 'tenant-alpha');
    await eventually('quota restored', async () => {
      const q = await client().tryGet(
        RESOURCE_QUOTAS,
        RESOURCE_QUOTA,
        'tenant-alpha',
      );
      return q && q.metadata.uid !== uid;
    });
    await eventually('network policy restored', () =>
      client().tryGet(
        CILIUM_NETWORK_POLICIES,
        ISOLATION_POLICY,
        'tenant-alpha',
      ),
    );
    await eventually('Knative Service restored', () =>
      client().tryGet(KNATIVE_SERVICES, 'web', 'tenant-alpha'),
    );
    // An edit by hand is put back too.
    await client().mergePatch(RESOURCE_QUOTAS, RESOURCE_QUOTA, 'tenant-alpha', {
      spec: { hard: { 'requests.cpu': '100' } },
    });
    await eventually('quota edit reverted', async () => {
      const q = (await client().get(
        RESOURCE_QUOTAS,
        RESOURCE_QUOTA,
        'tenant-alpha',
      )) as any;
      return q.spec.hard['requests.cpu'] === '4';
    });
    const tenant = await client().get(TENANTS, 'alpha');
    expect(statusOf(tenant).phase).toBe('Active');
  });

  it('reports a clear condition for an app whose tenant does not exist', async () => {
    await client().apply(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'tenant-ghost' },
    });
    await applyApp(client(), 'ghost', 'lost');
    const app = await appPhase('tenant-ghost', 'lost', 'Pending');
    expect(statusOf(app).message).toMatch(/create tenant ghost first/);
    expect(
      statusOf(app).conditions.find((c: any) => c.type === 'TenantReady'),
    ).toMatchObject({
      status: 'False',
      reason: 'TenantMissing',
    });
    expect(
      await client().tryGet(KNATIVE_SERVICES, 'lost', 'tenant-ghost'),
    ).toBeUndefined();
    // Creating the tenant lets the app proceed.
    await applyTenant(client(), 'ghost');
    await appPhase('tenant-ghost', 'lost', 'Ready');
  });

  it('deletes a tenant in order and leaves nothing behind', async () => {
    await applyTenant(client(), 'doomed');
    await tenantActive('doomed');
    await applyApp(client(), 'doomed', 'one', { domains: ['one.example.org'] });
    await applyApp(client(), 'doomed', 'two');
    await appPhase('tenant-doomed', 'one', 'Ready');
    await appPhase('tenant-doomed', 'two', 'Ready');

    // Record the order in which things disappear: the resourceVersion of a
    // DELETED event is etcd's revision of the delete, one order across kinds.
    const deletions: Array<[number, string]> = [];
    const order: string[] = [];
    const watched = [
      [DOMAIN_MAPPINGS, 'dm'],
      [KNATIVE_SERVICES, 'ksvc'],
      [APPS, 'app'],
      [CILIUM_NETWORK_POLICIES, 'netpol'],
      [CAPSULE_TENANTS, 'rbac'],
      [RESOURCE_QUOTAS, 'quota'],
      [NAMESPACES, 'namespace'],
      [TENANTS, 'tenant'],
    ] as const;
    const informers = watched.map(([type, label]) => {
      const informer = new Informer(client(), { type });
      informer.addHandlers({
        delete: o => {
          if (
            o.metadata.namespace === 'tenant-doomed' ||
            o.metadata.name.endsWith('doomed')
          )
            deletions.push([
              Number(o.metadata.resourceVersion),
              `${label}:${o.metadata.name}`,
            ]);
        },
      });
      informer.start();
      return informer;
    });
    // The operator's DELETEs for it, by resource: each child is asked once
    // (a pass that waits for the namespace to go asks nothing again).
    const deletes = async () => {
      const metric = await handle.operator.metrics.apiRequests.get();
      return new Map(
        metric.values
          .filter(v => v.labels.method === 'DELETE')
          .map(v => [String(v.labels.resource), v.value]),
      );
    };
    try {
      await Promise.all(informers.map(i => i.waitForSync()));
      const deletesBefore = await deletes();
      await client().delete(TENANTS, 'doomed');
      await eventually('tenant Deleting', async () => {
        const t = await client().tryGet(TENANTS, 'doomed');
        return !t || statusOf(t).phase === 'Deleting';
      });
      await eventually(
        'tenant gone',
        async () => (await client().tryGet(TENANTS, 'doomed')) === undefined,
        // Real pods stop gracefully (queue-proxy drains) before the
        // namespace, and so the Tenant, can go.
        180_000,
      );
      expect(
        await client().tryGet(NAMESPACES, 'tenant-doomed'),
      ).toBeUndefined();
      expect(await client().tryGet(CAPSULE_TENANTS, 'doomed')).toBeUndefined();
      await eventually("the tenant's DELETED event", () =>
        deletions.some(([, d]) => d === 'tenant:doomed'),
      );
      order.push(...deletions.sort((a, b) => a[0] - b[0]).map(([, d]) => d));
      const at = (entry: string) => {
        const i = order.indexOf(entry);
        expect(i).toBeGreaterThanOrEqual(0);
        return i;
      };
      expect(at('dm:one.example.org')).toBeLessThan(at('ksvc:one'));
      expect(at('ksvc:one')).toBeLessThan(at('app:one'));
      expect(at('ksvc:two')).toBeLessThan(at('app:two'));
      const lastApp = Math.max(at('app:one'), at('app:two'));
      expect(lastApp).toBeLessThan(at('netpol:paved-isolation'));
      expect(at('netpol:paved-isolation')).toBeLessThan(at('rbac:doomed'));
      expect(at('rbac:doomed')).toBeLessThan(at('quota:paved-quota'));
      expect(at('quota:paved-quota')).toBeLessThan(
        at('namespace:tenant-doomed'),
      );
      expect(at('namespace:tenant-doomed')).toBeLessThan(at('tenant:doomed'));

      const deletesAfter = await deletes();
      const asked = Object.fromEntries(
        [...deletesAfter]
          .map(([resource, n]): [string, number] => [
            resource,
            n - (deletesBefore.get(resource) ?? 0),
          ])
          .filter(([, n]) => n !== 0),
      );
      // Two Apps, their Services, one domain's mapping and claim, and each
      // child of the tenant: asked once each while the namespace took its
      // time to go. (A second DELETE, answered 404, is allowed where a
      // child's watch event comes a moment after the next pass.)
      expect(Object.keys(asked).sort()).toEqual([
        'apps',
        'ciliumnetworkpolicies',
        'clusterdomainclaims',
        'domainmappings',
        'limitranges',
        'namespaces',
        'resourcequotas',
        'services',
        'tenants',
      ]);
      expect(asked.namespaces).toBe(1);
      const perObject = (resource: string) =>
        ['apps', 'services'].includes(resource) ? 2 : 1;
      expect(
        Object.entries(asked).filter(([r, n]) => n > 2 * perObject(r)),
      ).toEqual([]);
    } finally {
      await Promise.all(informers.map(i => i.stop()));
    }
  });

  it("serves health, readiness and Prometheus metrics under controller-runtime's names", async () => {
    const other = await startOperator(handle.cluster, {
      metricsPort: 0,
      leaderElection: {
        namespace: 'default',
        name: 'metrics-test',
        retryPeriodMs: 200,
        renewDeadlineMs: 1000,
        leaseDurationMs: 2000,
      },
    });
    try {
      await other.waitUntilLeading();
      const base = `http://127.0.0.1:${other.metricsPortBound}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      /** The value of one series, exactly as a Prometheus query names it. */
      const value = (text: string, series: string) => {
        const line = text.split('\n').find(l => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.split(' ')[1]);
      };
      // The tenant controller has reconciled the suite's tenants by now.
      const metrics = await eventually('reconcile metrics', async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const done = value(
          text,
          'controller_runtime_reconcile_total{controller="tenant",result="success"}',
        );
        return done !== undefined && done > 0 && text;
      });
      for (const series of [
        'controller_runtime_reconcile_total{controller="app",result="error"}',
        'controller_runtime_reconcile_total{controller="app",result="requeue_after"}',
        'controller_runtime_reconcile_errors_total{controller="tenant"}',
        'controller_runtime_active_workers{controller="app"}',
        'workqueue_depth{name="app",controller="app",priority=""}',
        'workqueue_retries_total{name="tenant",controller="tenant"}',
      ]) {
        expect({ series, value: value(metrics, series) }).toEqual({
          series,
          value: expect.any(Number),
        });
      }
      expect(
        value(
          metrics,
          'controller_runtime_max_concurrent_reconciles{controller="tenant"}',
        ),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(
          metrics,
          'workqueue_adds_total{name="tenant",controller="tenant"}',
        ),
      ).toBeGreaterThan(0);
      expect(
        value(
          metrics,
          'controller_runtime_reconcile_time_seconds_count{controller="tenant"}',
        ),
      ).toBeGreaterThan(0);
      expect(
        value(
          metrics,
          'workqueue_queue_duration_seconds_count{name="tenant",controller="tenant"}',
        ),
      ).toBeGreaterThan(0);
      expect(
        value(
          metrics,
          'workqueue_work_duration_seconds_count{name="tenant",controller="tenant"}',
        ),
      ).toBeGreaterThan(0);
      expect(
        value(metrics, 'leader_election_master_status{name="metrics-test"}'),
      ).toBe(1);
      const host = new URL(handle.cluster.server).host;
      expect(
        value(
          metrics,
          `rest_client_requests_total{code="200",method="GET",host="${host}"}`,
        ),
      ).toBeGreaterThan(0);
      expect(metrics).not.toMatch(/^paved_(reconcile|workqueue|leader)/m);
      expect(metrics).toMatch(/process_resident_memory_bytes/);
    } finally {
      await other.stop();
    }
  });
});
