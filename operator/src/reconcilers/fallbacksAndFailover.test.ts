import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import {
  installCrds,
  pinnedUpstreamVersions,
  readCrdFile,
  UPSTREAM_CRD_FILES,
  eventually,
} from '@paved/test-cluster';
import { ISOLATION_POLICY, RESOURCE_QUOTA } from '../desired/names';
import {
  APPS,
  CILIUM_NETWORK_POLICIES,
  KNATIVE_SERVICES,
  LEASES,
  NAMESPACES,
  NETWORK_POLICIES,
  RESOURCE_QUOTAS,
  REVISIONS,
  ROLE_BINDINGS,
  TENANTS,
} from '@paved/kube';
import { Operator } from '../operator';
import { QUICK_SCALE_TO_ZERO } from '../__testUtils__/cluster';
import { useOperatorSuite } from '../__testUtils__/operatorSuite';
import {
  applyApp,
  applyTenant,
  statusOf,
} from '../__testUtils__/operatorHarness';

jest.setTimeout(180_000);

/** How many requests on Leases an operator has made (its API metric). */
async function leaseReads(o: Operator): Promise<number> {
  const { values } = await o.metrics.apiRequests.get();
  return values
    .filter(v => v.labels.resource === 'leases' && v.labels.method === 'GET')
    .reduce((sum, v) => sum + v.value, 0);
}

const lease = (name: string) => ({
  namespace: 'default',
  name,
  leaseDurationMs: 3000,
  renewDeadlineMs: 2000,
  retryPeriodMs: 250,
});

describe('Operator without Capsule and Cilium, and with several instances', () => {
  const handle = useOperatorSuite({
    cluster: { capsule: false, cilium: false, dataPlane: QUICK_SCALE_TO_ZERO },
  });
  const operators = handle.operators;
  const operator = (options = {}) => handle.startOperator(options);
  const client = () => handle.client;
  const tenantActive = (name: string) =>
    eventually(`tenant ${name} Active`, async () => {
      const t = await client().get(TENANTS, name);
      return statusOf(t).phase === 'Active' && t;
    });

  it('falls back to a RoleBinding and a NetworkPolicy', async () => {
    const o = await operator();
    await o.waitUntilLeading();
    expect(o.context!.features).toEqual({
      capsule: false,
      cilium: false,
      knative: true,
    });
    await applyTenant(client(), 'plain', { owner: 'group:platform/sre' });
    const tenant = await tenantActive('plain');
    const conditions = statusOf(tenant).conditions;
    expect(conditions.find((c: any) => c.type === 'RBACReady').reason).toBe(
      'RoleBinding',
    );
    expect(
      conditions.find((c: any) => c.type === 'NetworkPolicyReady').reason,
    ).toBe('NetworkPolicy');
    const rb = (await client().get(
      ROLE_BINDINGS,
      'paved-owners',
      'tenant-plain',
    )) as any;
    expect(rb.subjects).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Group',
        name: 'platform/sre',
      },
    ]);
    expect(rb.roleRef.name).toBe('paved-tenant-owner');
    const np = (await client().get(
      NETWORK_POLICIES,
      ISOLATION_POLICY,
      'tenant-plain',
    )) as any;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.metadata.labels['paved.dev/tenant']).toBe('plain');

    // Turning isolation off removes the policy.
    await applyTenant(client(), 'plain', {
      owner: 'group:platform/sre',
      networkIsolation: false,
    });
    await eventually(
      'policy removed',
      async () =>
        (await client().tryGet(
          NETWORK_POLICIES,
          ISOLATION_POLICY,
          'tenant-plain',
        )) === undefined,
    );
  });

  it('elects one leader among two instances and fails over when it stops', async () => {
    const a = await operator({
      leaderElection: { ...lease('ha'), identity: 'op-a' },
    });
    await a.waitUntilLeading();
    const b = await operator({
      leaderElection: { ...lease('ha'), identity: 'op-b' },
    });
    // Past b's first tries (each reads the Lease), not a fixed time: b has
    // seen a's Lease and stood by.
    await eventually(
      "b's election loop reading the Lease three times",
      async () => (await leaseReads(b)) >= 3,
      10_000,
      { intervalMs: 25 },
    );
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);
    expect(b.context).toBeUndefined();
    const held = (await client().get(LEASES, 'ha', 'default')) as any;
    expect(held.spec.holderIdentity).toBe('op-a');

    await applyTenant(client(), 'ha-one');
    await tenantActive('ha-one');

    // A graceful stop releases the lease: b takes over without waiting it out.
    const stoppedAt = Date.now();
    await a.stop();
    operators.splice(operators.indexOf(a), 1);
    await b.waitUntilLeading(10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(
      ((await client().get(LEASES, 'ha', 'default')) as any).spec
        .holderIdentity,
    ).toBe('op-b');
    await applyTenant(client(), 'ha-two');
    await tenantActive('ha-two');
  });

  it('takes over from a leader that stops renewing without releasing', async () => {
    const a = await operator({
      leaderElection: { ...lease('crash'), identity: 'crash-a' },
    });
    await a.waitUntilLeading();
    const b = await operator({
      leaderElection: { ...lease('crash'), identity: 'crash-b' },
    });
    await a.stop({ releaseLease: false });
    operators.splice(operators.indexOf(a), 1);
    expect(
      ((await client().get(LEASES, 'crash', 'default')) as any).spec
        .holderIdentity,
    ).toBe('crash-a');
    await b.waitUntilLeading(15_000);
    const after = (await client().get(LEASES, 'crash', 'default')) as any;
    expect(after.spec.holderIdentity).toBe('crash-b');
    expect(after.spec.leaseTransitions).toBe(1);
  });

  it('converges with no duplicates after being stopped mid-provisioning', async () => {
    const first = await operator();
    await first.waitUntilLeading();
    for (let i = 0; i < 5; i++) await applyTenant(client(), `mid-${i}`);
    for (let i = 0; i < 5; i++)
      await applyApp(client(), `mid-${i}`, 'web').catch(() => {});
    // Stop while some of that work is under way.
    await eventually('a first tenant namespace', async () => {
      const ns = await client().list(NAMESPACES, {
        labelSelector: 'paved.dev/tenant',
      });
      return ns.items.some(n => n.metadata.name.startsWith('tenant-mid-'));
    });
    await first.stop();
    operators.splice(operators.indexOf(first), 1);

    // The namespaces exist only now for some: apply the apps again, as the backend's sync would.
    const second = await operator();
    await second.waitUntilLeading();
    for (let i = 0; i < 5; i++) {
      await tenantActive(`mid-${i}`);
      await eventually(`app mid-${i}/web applied`, () =>
        applyApp(client(), `mid-${i}`, 'web').then(() => true),
      );
    }
    for (let i = 0; i < 5; i++) {
      const ns = `tenant-mid-${i}`;
      await eventually(
        `${ns}/web Ready`,
        async () =>
          statusOf(await client().get(APPS, 'web', ns)).phase === 'Ready',
        180_000,
      );
      expect(
        (await client().list(RESOURCE_QUOTAS, { namespace: ns })).items.map(
          q => q.metadata.name,
        ),
      ).toEqual([RESOURCE_QUOTA]);
      expect(
        (
          await client().list(ROLE_BINDINGS, {
            namespace: ns,
            labelSelector: 'paved.dev/tenant',
          })
        ).items,
      ).toHaveLength(1);
      expect(
        (await client().list(KNATIVE_SERVICES, { namespace: ns })).items,
      ).toHaveLength(1);
      expect(
        (await client().list(REVISIONS, { namespace: ns })).items,
      ).toHaveLength(1);
    }
  });

  // Last: it installs Cilium's CRD in this file's cluster.
  it('switches to a CiliumNetworkPolicy when Cilium is installed', async () => {
    const o = await operator();
    await o.waitUntilLeading();
    await applyTenant(client(), 'switch');
    await tenantActive('switch');
    expect(
      await client().tryGet(
        NETWORK_POLICIES,
        ISOLATION_POLICY,
        'tenant-switch',
      ),
    ).toBeDefined();

    const { module, files } = UPSTREAM_CRD_FILES.cilium;
    const version = pinnedUpstreamVersions()[module];
    let modCache = process.env.GOMODCACHE;
    try {
      modCache ||= execFileSync('go', ['env', 'GOMODCACHE'], {
        encoding: 'utf8',
      }).trim();
    } catch {
      modCache = path.join(os.homedir(), 'go', 'pkg', 'mod');
    }
    const file = path.join(modCache, `${module}@${version}`, files[0]);
    await installCrds(handle.cluster.kubeConfig, readCrdFile(file));

    await eventually(
      'CiliumNetworkPolicy after Cilium appeared',
      () =>
        client().tryGet(
          CILIUM_NETWORK_POLICIES,
          ISOLATION_POLICY,
          'tenant-switch',
        ),
      60_000,
    );
    await eventually(
      'plain NetworkPolicy removed',
      async () =>
        (await client().tryGet(
          NETWORK_POLICIES,
          ISOLATION_POLICY,
          'tenant-switch',
        )) === undefined,
    );
    expect(o.context?.features.cilium).toBe(true);
  });
});
