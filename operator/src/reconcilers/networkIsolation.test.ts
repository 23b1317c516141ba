import {
  NODE_NETWORK,
  requestThroughIngress,
  eventually,
} from '@paved/test-cluster';
import { ISOLATION_POLICY } from '../desired/names';
import { PRIVATE_RANGES } from '../desired/networkPolicy';
import { APPS, NETWORK_POLICIES, ResourceType, TENANTS } from '@paved/kube';
import { DATA_PLANE_START_TIMEOUT_MS } from '../__testUtils__/cluster';
import { useOperatorSuite } from '../__testUtils__/operatorSuite';
import {
  applyApp,
  applyTenant,
  statusOf,
} from '../__testUtils__/operatorHarness';
import { startTestHost, TestHost } from '../__testUtils__/testHost';

jest.setTimeout(240_000);

/** What netprobe (packages/test-cluster/go/images/cmd/netprobe) answers. */
interface ProbeResult {
  ok: boolean;
  status?: number;
  body?: string;
  addrs?: string[];
  error?: string;
}

const PODS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'pods',
  kind: 'Pod',
  namespaced: true,
};
const NETPROBE_IMAGE = 'registry.localhost/paved/netprobe:1.0.0';
// The test host's addresses: ours alone (startTestHost checks that this
// machine has nothing on these /30s), one per private range the policy
// denies, and one link-local (where clouds put their metadata service).
const TEST_HOST = {
  addresses: ['10.231.77.2', '192.168.231.2', '169.254.231.2'],
  port: 8081,
};

// The core fallback (no Cilium CRD: a networking.k8s.io NetworkPolicy),
// enforced by the test node's kube-router. Two tenants, each with an app
// that is netprobe: asked through the app's URL, it dials from inside its
// own pod, so every verdict below is the node's, on real traffic.
describe('Network isolation, enforced on a real node', () => {
  let testHost: TestHost;

  beforeAll(async () => {
    testHost = await startTestHost(TEST_HOST);
  });
  afterAll(async () => {
    await testHost?.stop();
  });
  const handle = useOperatorSuite({
    cluster: { cilium: false, dataPlane: {} },
    operator: cluster => {
      const dataPlane = cluster.dataPlane!;
      if (!dataPlane.networkPolicies) {
        throw new Error('the test node must enforce NetworkPolicies');
      }
      return {
        // Traefik runs on the node's network, not as pods: pods reach it at
        // the bridge's address, on the ingress port (after kube-proxy's DNAT).
        config: {
          gatewayCidrs: [`${NODE_NETWORK.gateway}/32`],
          gatewayPorts: [dataPlane.ingressPort],
        },
      };
    },
  });

  beforeAll(async () => {
    const { client } = handle;
    for (const [tenant, app] of [
      ['neta', 'alpha'],
      ['netb', 'beta'],
    ]) {
      await applyTenant(client, tenant);
      await eventually(
        `tenant ${tenant} Active`,
        async () =>
          statusOf(await client.get(TENANTS, tenant)).phase === 'Active',
      );
      await applyApp(client, tenant, app, {
        image: NETPROBE_IMAGE,
        scaling: { minInstances: 1, maxInstances: 1 },
      });
    }
    for (const [ns, app] of [
      ['tenant-neta', 'alpha'],
      ['tenant-netb', 'beta'],
    ]) {
      await eventually(
        `app ${ns}/${app} Ready`,
        async () => statusOf(await client.get(APPS, app, ns)).phase === 'Ready',
        180_000,
      );
    }
  }, DATA_PLANE_START_TIMEOUT_MS);

  const url = (app: string, tenant: string) =>
    `http://${app}.tenant-${tenant}.localhost`;
  /** Asks `app`'s pod, through the ingress, to make a call. */
  const probe = async (
    app: string,
    tenant: string,
    path: string,
  ): Promise<ProbeResult> => {
    const res = await requestThroughIngress(
      handle.cluster.dataPlane!,
      `${url(app, tenant)}${path}`,
    );
    expect(res.status).toBe(200);
    return JSON.parse(res.body);
  };
  const dial = (
    from: [string, string],
    addr: string,
    options: { host?: string } = {},
  ) =>
    probe(
      ...from,
      `/dial?addr=${encodeURIComponent(addr)}${
        options.host ? `&host=${encodeURIComponent(options.host)}` : ''
      }`,
    );
  const resolve = (from: [string, string], name: string) =>
    probe(...from, `/resolve?name=${encodeURIComponent(name)}`);
  /**
   * Polls the probe until its verdict is `want` (policies are synced
   * asynchronously) or 30 s pass; says what it last got either way.
   */
  const settle = async (
    call: () => Promise<ProbeResult>,
    want: boolean,
  ): Promise<ProbeResult> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const result = await call();
      if (result.ok === want || Date.now() > deadline) return result;
      await new Promise(r => setTimeout(r, 500));
    }
  };
  /** `{ [what]: ok }` of each probe, settled towards `want`, for one expect. */
  const verdicts = async (
    probes: [string, () => Promise<ProbeResult>][],
    want: boolean,
  ) => {
    const out: Record<string, boolean | string> = {};
    for (const [what, call] of probes) {
      const result = await settle(call, want);
      // The error says how a denied call failed, when one was let through.
      out[what] = result.ok === want ? want : result.error ?? result.ok;
    }
    return out;
  };
  const all = (probes: [string, unknown][], value: boolean) =>
    Object.fromEntries(probes.map(([what]) => [what, value]));
  const alpha: [string, string] = ['alpha', 'neta'];
  const beta: [string, string] = ['beta', 'netb'];
  const podIp = async (ns: string, app: string) =>
    eventually(`a running pod of ${ns}/${app}`, async () => {
      const pods = await handle.client.list(PODS, {
        namespace: ns,
        labelSelector: `serving.knative.dev/service=${app}`,
      });
      const running = pods.items.find(
        (p: any) => p.status?.phase === 'Running' && p.status?.podIP,
      ) as any;
      return running?.status.podIP as string | undefined;
    });

  it('gives each tenant a NetworkPolicy, and its app answers through the ingress', async () => {
    for (const ns of ['tenant-neta', 'tenant-netb']) {
      const np = (await handle.client.get(
        NETWORK_POLICIES,
        ISOLATION_POLICY,
        ns,
      )) as any;
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.egress).toContainEqual({
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_RANGES } }],
      });
    }
    // Traefik (the node) → Knative's activator → the pod: let in.
    for (const [app, tenant] of [alpha, beta]) {
      const res = await requestThroughIngress(
        handle.cluster.dataPlane!,
        url(app, tenant),
      );
      expect(res.body).toMatch(new RegExp(`^netprobe ${app}-00001-`));
    }
  });

  it('a pod reaches its own app through its URL, and another tenant only that way', async () => {
    // The cluster-local URL: DNS, then the gateway on the node's address.
    const own = await settle(
      () => dial(alpha, 'alpha.tenant-neta.svc.cluster.local:80'),
      true,
    );
    expect(own).toMatchObject({ ok: true, status: 200 });
    expect(own.body).toMatch(/^netprobe alpha-00001-/);
    // The public URL, as a browser would call it: the gateway, by Host.
    const publicUrl = await dial(
      alpha,
      'traefik.kube-system.svc.cluster.local:80',
      { host: 'alpha.tenant-neta.localhost' },
    );
    expect(publicUrl).toMatchObject({ ok: true, status: 200 });
    expect(publicUrl.body).toMatch(/^netprobe alpha-00001-/);
    // Another tenant's app through the gateway, as anyone on the internet.
    const other = await dial(alpha, 'beta.tenant-netb.svc.cluster.local:80');
    expect(other).toMatchObject({ ok: true, status: 200 });
    expect(other.body).toMatch(/^netprobe beta-00001-/);
  });

  const podProbes = async (): Promise<
    [string, () => Promise<ProbeResult>][]
  > => {
    const alphaIp = await podIp('tenant-neta', 'alpha');
    const betaIp = await podIp('tenant-netb', 'beta');
    // The app's port and the queue-proxy's, both ways.
    return [8080, 8012].flatMap(port => [
      [`alpha → beta's pod :${port}`, () => dial(alpha, `${betaIp}:${port}`)],
      [`beta → alpha's pod :${port}`, () => dial(beta, `${alphaIp}:${port}`)],
    ]);
  };
  const testHostProbes = (): [string, () => Promise<ProbeResult>][] => {
    const { addresses, port } = testHost;
    return addresses.map(address => [
      `alpha → test host ${address}`,
      () => dial(alpha, `${address}:${port}`),
    ]);
  };

  it('a pod cannot reach a pod of another tenant', async () => {
    const probes = await podProbes();
    expect(await verdicts(probes, false)).toEqual(all(probes, false));
  });

  it('a pod cannot reach private or link-local addresses', async () => {
    const probes = testHostProbes();
    // Nor the node beyond the gateway's port: here, the API server.
    probes.push([
      'alpha → the API server (kubernetes Service)',
      () => dial(alpha, 'kubernetes.default.svc.cluster.local:443'),
    ]);
    expect(await verdicts(probes, false)).toEqual(all(probes, false));
  });

  it('resolves names under isolation', async () => {
    const api = await resolve(alpha, 'kubernetes.default.svc.cluster.local');
    expect(api).toMatchObject({ ok: true, addrs: ['10.0.0.1'] });
    const other = await resolve(beta, 'alpha.tenant-neta.svc.cluster.local');
    expect(other.ok).toBe(true);
    expect(other.addrs!.length).toBeGreaterThan(0);
  });

  // The control: the same probes connect once the tenants turn isolation
  // off, so the denials above are the policy's, not a broken probe's.
  it('without the policy, the same probes connect', async () => {
    const { client } = handle;
    await applyTenant(client, 'neta', { networkIsolation: false });
    await applyTenant(client, 'netb', { networkIsolation: false });
    for (const ns of ['tenant-neta', 'tenant-netb']) {
      await eventually(
        `the policy of ${ns} removed`,
        async () =>
          !(await client.tryGet(NETWORK_POLICIES, ISOLATION_POLICY, ns)),
      );
    }
    const probes = [...(await podProbes()), ...testHostProbes()];
    expect(await verdicts(probes, true)).toEqual(all(probes, true));
    // And they reached whom they dialled.
    const [[, toBeta], [, toAlpha]] = probes;
    expect((await toBeta()).body).toMatch(/^netprobe beta-00001-/);
    expect((await toAlpha()).body).toMatch(/^netprobe alpha-00001-/);
    for (const address of testHost.addresses) {
      expect(await dial(alpha, `${address}:${testHost.port}`)).toMatchObject({
        status: 200,
        body: `testhost ${address}\n`,
      });
    }
  });
});
