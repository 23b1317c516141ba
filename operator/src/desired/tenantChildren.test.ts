import { DEFAULT_DESIRED_STATE_CONFIG as config } from './config';
import { desiredNamespace } from './namespace';
import {
  desiredCapsuleTenant,
  desiredOwnerRoleBinding,
  ownerGroup,
} from './rbac';
import {
  desiredCiliumNetworkPolicy,
  desiredNetworkPolicy,
  PRIVATE_RANGES,
} from './networkPolicy';
import {
  desiredLimitRange,
  desiredResourceQuota,
  UnknownPlanError,
} from './quota';
import { tenantFixture } from '../__testUtils__/fixtures';

const paved = {
  'app.kubernetes.io/managed-by': 'paved',
  'paved.dev/tenant': 'team-a',
};

describe('namespace', () => {
  it('is tenant-<name> with the paved labels', () => {
    const ns = desiredNamespace(tenantFixture(), config, { capsule: false });
    expect(ns.metadata.name).toBe('tenant-team-a');
    expect(ns.metadata.labels).toMatchObject(paved);
    expect(ns.metadata.labels).not.toHaveProperty('capsule.clastix.io/tenant');
  });

  it('follows a configured prefix and carries the Capsule tenant label', () => {
    const ns = desiredNamespace(
      tenantFixture(),
      { ...config, namespacePrefix: 'paved-' },
      { capsule: true },
    );
    expect(ns.metadata.name).toBe('paved-team-a');
    expect(ns.metadata.labels!['capsule.clastix.io/tenant']).toBe('team-a');
  });
});

describe('RBAC', () => {
  it('maps owner refs to Kubernetes groups', () => {
    expect(ownerGroup('group:default/team-a', config)).toBe('team-a');
    expect(ownerGroup('group:platform/sre', config)).toBe('platform/sre');
    expect(
      ownerGroup('group:default/team-a', {
        ...config,
        ownerGroupPrefix: 'oidc:',
      }),
    ).toBe('oidc:team-a');
    expect(() => ownerGroup('team-a', config)).toThrow(/group:default\/team-a/);
  });

  it('binds the owner group to the owner ClusterRole in the namespace', () => {
    const rb = desiredOwnerRoleBinding(tenantFixture(), config) as any;
    expect(rb.metadata).toMatchObject({
      name: 'paved-owners',
      namespace: 'tenant-team-a',
      labels: paved,
    });
    expect(rb.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'paved-tenant-owner',
    });
    expect(rb.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a' },
    ]);
  });

  it('makes the owner group the owner of a Capsule tenant with one namespace', () => {
    const ct = desiredCapsuleTenant(tenantFixture(), config) as any;
    expect(ct.apiVersion).toBe('capsule.clastix.io/v1beta2');
    expect(ct.metadata.name).toBe('team-a');
    expect(ct.spec.owners).toEqual([
      {
        kind: 'Group',
        name: 'team-a',
        clusterRoles: ['paved-tenant-owner'],
      },
    ]);
    expect(ct.spec.namespaceOptions).toEqual({ quota: 1 });
  });
});

describe('network isolation', () => {
  it('excludes private ranges from internet egress with toCIDRSet (Cilium)', () => {
    const cnp = desiredCiliumNetworkPolicy(tenantFixture(), config) as any;
    expect(cnp.metadata.namespace).toBe('tenant-team-a');
    const cidr = cnp.spec.egress.find((r: any) => r.toCIDRSet);
    expect(cidr.toCIDRSet).toEqual([
      {
        cidr: '0.0.0.0/0',
        except: [
          '10.0.0.0/8',
          '172.16.0.0/12',
          '192.168.0.0/16',
          '169.254.0.0/16',
        ],
      },
    ]);
    expect(JSON.stringify(cnp)).not.toContain('"toCIDR"');
    const dns = cnp.spec.egress.find((r: any) => r.toPorts);
    expect(dns.toEndpoints[0].matchLabels).toEqual({
      'k8s:io.kubernetes.pod.namespace': 'kube-system',
      'k8s:k8s-app': 'kube-dns',
    });
    const ingressNamespaces = cnp.spec.ingress[1].fromEndpoints.map(
      (e: any) => e.matchLabels['k8s:io.kubernetes.pod.namespace'],
    );
    expect(ingressNamespaces).toEqual([
      'knative-serving',
      'kourier-system',
      'istio-system',
      'paved-system',
    ]);
    expect(cnp.spec.ingress[0]).toEqual({ fromEndpoints: [{}] });
  });

  it('expresses the same intent as a NetworkPolicy without Cilium', () => {
    const np = desiredNetworkPolicy(tenantFixture(), {
      ...config,
      gatewayNamespaces: ['contour'],
    }) as any;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.podSelector).toEqual({});
    const from = np.spec.ingress[0].from;
    expect(from[0]).toEqual({ podSelector: {} });
    expect(
      from
        .slice(1)
        .map(
          (f: any) =>
            f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
        ),
    ).toEqual(['knative-serving', 'contour', 'paved-system']);
    const ipBlock = np.spec.egress.find((r: any) => r.to[0]?.ipBlock).to[0]
      .ipBlock;
    expect(ipBlock).toEqual({ cidr: '0.0.0.0/0', except: PRIVATE_RANGES });
    const dns = np.spec.egress.find((r: any) => r.ports);
    expect(dns.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
  });
});

describe('network policy and the gateway', () => {
  const hostGateway = {
    ...config,
    gatewayCidrs: ['10.244.0.1/32'],
    gatewayPorts: [8080],
  };

  it('lets pods call a host-network gateway on its ports, and lets it in', () => {
    const np = desiredNetworkPolicy(tenantFixture(), hostGateway) as any;
    expect(np.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: '10.244.0.1/32' } }],
      ports: [{ protocol: 'TCP', port: 8080 }],
    });
    expect(np.spec.ingress[0].from).toContainEqual({
      ipBlock: { cidr: '10.244.0.1/32' },
    });
    const cnp = desiredCiliumNetworkPolicy(tenantFixture(), hostGateway) as any;
    expect(cnp.spec.egress).toContainEqual({
      toCIDRSet: [{ cidr: '10.244.0.1/32' }],
      toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }],
    });
    expect(cnp.spec.ingress).toContainEqual({
      fromCIDRSet: [{ cidr: '10.244.0.1/32' }],
    });
  });

  it('allows every port of the gateway addresses when no port is set', () => {
    const np = desiredNetworkPolicy(tenantFixture(), {
      ...hostGateway,
      gatewayPorts: [],
    }) as any;
    expect(np.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: '10.244.0.1/32' } }],
    });
  });

  it('writes no gateway address rule by default', () => {
    const np = desiredNetworkPolicy(tenantFixture(), config) as any;
    const blocks = np.spec.egress.flatMap((r: any) =>
      r.to.filter((peer: any) => peer.ipBlock),
    );
    expect(blocks).toEqual([
      { ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_RANGES } },
    ]);
    expect(np.spec.ingress[0].from.some((p: any) => p.ipBlock)).toBe(false);
  });

  // An empty `to` (stored as absent) matches every destination.
  it('never writes a rule that would match everything', () => {
    const open = { ...config, gatewayNamespaces: [], platformNamespaces: [] };
    const np = desiredNetworkPolicy(tenantFixture(), open) as any;
    for (const rule of np.spec.egress)
      expect(rule.to.length).toBeGreaterThan(0);
    for (const rule of np.spec.ingress)
      expect(rule.from.length).toBeGreaterThan(0);
    const cnp = desiredCiliumNetworkPolicy(tenantFixture(), open) as any;
    for (const rule of cnp.spec.egress) {
      const peers = [...(rule.toEndpoints ?? []), ...(rule.toCIDRSet ?? [])];
      expect(peers.length).toBeGreaterThan(0);
    }
  });
});

describe('quota', () => {
  it('takes the plan limits', () => {
    const q = desiredResourceQuota(
      tenantFixture('team-a', { plan: 'starter' }),
      config,
    ) as any;
    expect(q.metadata).toMatchObject({
      name: 'paved-quota',
      namespace: 'tenant-team-a',
    });
    // No limits.cpu: the queue-proxy sets no CPU limit (see quota.ts).
    expect(q.spec.hard).toEqual({
      'requests.cpu': '4',
      'requests.memory': '8Gi',
      'limits.memory': '8Gi',
    });
  });

  it('lets spec.limits override the plan field by field', () => {
    const q = desiredResourceQuota(
      tenantFixture('team-a', {
        plan: 'free',
        limits: { memory: '3Gi' },
      }),
      config,
    ) as any;
    expect(q.spec.hard['requests.cpu']).toBe('1500m');
    expect(q.spec.hard['requests.memory']).toBe('3Gi');
  });

  it('refuses an unknown plan with the names of the known ones', () => {
    expect(() =>
      desiredResourceQuota(tenantFixture('team-a', { plan: 'gold' }), config),
    ).toThrow(UnknownPlanError);
    expect(() =>
      desiredResourceQuota(tenantFixture('team-a', { plan: 'gold' }), config),
    ).toThrow(
      'Plan "gold" is not in the plan catalogue; use one of free, starter, pro, enterprise',
    );
  });

  it('uses fully resolved spec.limits for a plan only the backend knows (configured in app-config)', () => {
    const q = desiredResourceQuota(
      tenantFixture('team-a', {
        plan: 'team-xl',
        limits: { cpu: '32', memory: '64Gi', maxApps: 100 },
      }),
      config,
    ) as any;
    expect(q.spec.hard['requests.cpu']).toBe('32');
    expect(q.spec.hard['limits.memory']).toBe('64Gi');
  });

  it('gives containers without resources small default requests and a memory limit, no CPU limit', () => {
    const lr = desiredLimitRange(tenantFixture(), config) as any;
    expect(lr.spec.limits).toEqual([
      {
        type: 'Container',
        defaultRequest: { cpu: '25m', memory: '64Mi' },
        default: { memory: '64Mi' },
      },
    ]);
  });
});
