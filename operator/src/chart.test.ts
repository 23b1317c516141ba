/**
 * The operator's Helm chart (operator/chart), linted and rendered by a real
 * Helm built from its Go module (helm.sh/helm/v4, see @paved/test-cluster's
 * ensureHelm). No cluster: chartInstall.test.ts applies the rendering to a
 * real API server and runs the operator with it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ensureHelm } from '@paved/test-cluster';
import {
  CHART_DIR,
  CRD_DIR,
  helm,
  Manifest,
  parseManifests,
  renderChart,
} from './__testUtils__/chart';
import { SETTINGS_VARIABLES, settingsFromArgs } from './config';

const run = promisify(execFile);

/**
 * The operator's rights, least privilege: what it reconciles, with the
 * verbs it uses. Changing them is a decision, so they are spelled out here
 * rather than read back from the chart.
 */
const OPERATOR_RULES = [
  {
    apiGroups: ['paved.dev'],
    resources: ['tenants'],
    verbs: ['get', 'list', 'watch', 'patch', 'update'],
  },
  {
    apiGroups: ['paved.dev'],
    resources: ['apps'],
    verbs: ['get', 'list', 'watch', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['paved.dev'],
    resources: ['tenants/status', 'apps/status'],
    verbs: ['get', 'patch', 'update'],
  },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  {
    apiGroups: [''],
    resources: ['namespaces', 'resourcequotas', 'limitranges'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['rolebindings'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['clusterroles'],
    verbs: ['create', 'patch', 'escalate', 'bind'],
    resourceNames: ['paved-tenant-owner'],
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['cilium.io'],
    resources: ['ciliumnetworkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['capsule.clastix.io'],
    resources: ['tenants'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['serving.knative.dev'],
    resources: ['services', 'domainmappings'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    apiGroups: ['serving.knative.dev'],
    resources: ['revisions'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['networking.internal.knative.dev'],
    resources: ['clusterdomainclaims'],
    verbs: ['get', 'create', 'delete'],
  },
  {
    apiGroups: ['apiextensions.k8s.io'],
    resources: ['customresourcedefinitions'],
    verbs: ['get', 'list', 'watch'],
  },
];

const chartYaml = parse(
  fs.readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8'),
);

const containerOf = (deployment: Manifest) =>
  deployment.spec.template.spec.containers[0];
const envOf = (deployment: Manifest): Record<string, any> =>
  Object.fromEntries(
    containerOf(deployment).env.map((e: any) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  );

/** Rejects with helm's message for these values. */
const renderError = (values: object) =>
  renderChart({ values }).then(
    () => {
      throw new Error('rendered, but should have failed');
    },
    (error: Error) => error.message,
  );

describe('the Helm chart', () => {
  // Built from its Go module on a fresh machine (minutes), then cached.
  beforeAll(() => ensureHelm(), 15 * 60_000);
  jest.setTimeout(60_000);

  it('passes helm lint --strict', async () => {
    const out = await helm('lint', '--strict', CHART_DIR);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('is named paved-operator and carries values.schema.json', () => {
    expect(chartYaml).toMatchObject({
      apiVersion: 'v2',
      name: 'paved-operator',
      type: 'application',
    });
    expect(
      JSON.parse(
        fs.readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8'),
      ).additionalProperties,
    ).toBe(false);
  });

  describe('CRDs', () => {
    const sourceCrds = () =>
      fs
        .readdirSync(CRD_DIR)
        .filter(f => f.endsWith('.yaml'))
        .sort()
        .flatMap(f =>
          parseManifests(fs.readFileSync(path.join(CRD_DIR, f), 'utf8')),
        );

    it('come from plugins/paved-common/crds through a symlink, not a copy', () => {
      const crds = path.join(CHART_DIR, 'crds');
      expect(fs.lstatSync(crds).isSymbolicLink()).toBe(true);
      expect(fs.realpathSync(crds)).toBe(fs.realpathSync(CRD_DIR));
    });

    it('are what helm renders with --include-crds and helm show crds', async () => {
      const expected = sourceCrds();
      expect(expected.map(c => c.metadata.name).sort()).toEqual([
        'apps.paved.dev',
        'tenants.paved.dev',
      ]);
      const rendered = (await renderChart({ includeCrds: true })).all(
        'CustomResourceDefinition',
      );
      const byName = (list: Manifest[]) =>
        [...list].sort((a, b) =>
          a.metadata.name.localeCompare(b.metadata.name),
        );
      expect(byName(rendered)).toEqual(byName(expected));
      expect(
        byName(parseManifests(await helm('show', 'crds', CHART_DIR))),
      ).toEqual(byName(expected));
      // Without --include-crds, `helm template` leaves them out (Helm
      // installs crds/ itself, before the templates).
      expect((await renderChart()).all('CustomResourceDefinition')).toEqual([]);
    });

    it('are packaged by helm package, byte for byte', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-package-'));
      try {
        await helm('package', CHART_DIR, '--destination', dir);
        const tgz = path.join(dir, `paved-operator-${chartYaml.version}.tgz`);
        await run('tar', ['-xzf', tgz, '-C', dir]);
        for (const file of fs
          .readdirSync(CRD_DIR)
          .filter(f => f.endsWith('.yaml'))) {
          const packaged = path.join(dir, 'paved-operator', 'crds', file);
          expect(fs.lstatSync(packaged).isFile()).toBe(true);
          expect(fs.readFileSync(packaged, 'utf8')).toBe(
            fs.readFileSync(path.join(CRD_DIR, file), 'utf8'),
          );
        }
        expect(
          fs.existsSync(
            path.join(dir, 'paved-operator', 'templates', 'deployment.yaml'),
          ),
        ).toBe(true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('with the default values', () => {
    it('renders the operator: account, RBAC, Deployment, metrics Service; no ServiceMonitor', async () => {
      const r = await renderChart();
      expect(r.objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
        [
          'ClusterRole/paved-operator',
          'ClusterRoleBinding/paved-operator',
          'Deployment/paved-operator',
          'Role/paved-operator-leader-election',
          'RoleBinding/paved-operator-leader-election',
          'Service/paved-operator-metrics',
          'ServiceAccount/paved-operator',
        ],
      );
      const namespaced = r.objects.filter(o => !o.kind.startsWith('Cluster'));
      expect(namespaced.map(o => o.metadata.namespace)).toEqual(
        namespaced.map(() => 'paved-system'),
      );
      for (const o of r.objects) {
        expect(o.metadata.labels).toMatchObject({
          'app.kubernetes.io/name': 'paved-operator',
          'app.kubernetes.io/instance': 'paved-operator',
          'app.kubernetes.io/part-of': 'paved',
          'app.kubernetes.io/managed-by': 'Helm',
        });
      }
    });

    it('runs two replicas with leader election, non-root, the appVersion image', async () => {
      const r = await renderChart();
      const deployment = r.get('Deployment');
      const pod = deployment.spec.template.spec;
      expect(deployment.spec.replicas).toBe(2);
      expect(pod.serviceAccountName).toBe('paved-operator');
      expect(deployment.spec.selector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'paved-operator',
        'app.kubernetes.io/instance': 'paved-operator',
      });
      expect(deployment.spec.template.metadata.labels).toMatchObject(
        deployment.spec.selector.matchLabels,
      );
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      // Replicas spread over nodes.
      expect(
        pod.affinity.podAntiAffinity
          .preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm,
      ).toEqual({
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
      });
      const container = containerOf(deployment);
      expect(container.image).toBe(
        `ghcr.io/paved/operator:${chartYaml.appVersion}`,
      );
      expect(container.imagePullPolicy).toBe('IfNotPresent');
      expect(container.args).toBeUndefined();
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.ports).toEqual([
        { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      ]);
      expect(container.livenessProbe.httpGet).toEqual({
        path: '/healthz',
        port: 'metrics',
      });
      expect(container.readinessProbe.httpGet).toEqual({
        path: '/readyz',
        port: 'metrics',
      });
      expect(deployment.spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '8080',
        'prometheus.io/path': '/metrics',
      });
    });

    it('sets only variables the operator reads, and they give its defaults plus the lease in its namespace', async () => {
      const deployment = (await renderChart()).get('Deployment');
      const env = envOf(deployment);
      const names = Object.keys(env).filter(n => n !== 'POD_NAME');
      expect(
        names.filter(
          n => !(SETTINGS_VARIABLES as readonly string[]).includes(n),
        ),
      ).toEqual([]);
      expect(env.POD_NAME).toEqual({
        fieldRef: { fieldPath: 'metadata.name' },
      });
      expect(env.PAVED_LEASE_NAMESPACE).toEqual({
        fieldRef: { fieldPath: 'metadata.namespace' },
      });
      // What the operator makes of them, as a pod in paved-system would.
      const settings = settingsFromArgs([], {
        ...env,
        POD_NAME: 'paved-operator-abc',
        PAVED_LEASE_NAMESPACE: 'paved-system',
      });
      expect(settings.leaderElection).toEqual({
        namespace: 'paved-system',
        name: 'paved-operator',
        identity: 'paved-operator-abc',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      });
      expect(settings.metricsPort).toBe(8080);
      expect(settings.concurrency).toBe(8);
      expect(settings.desired.namespacePrefix).toBe('tenant-');
      expect(settings.desired.platformNamespaces).toEqual(['paved-system']);
      expect(settings.desired.ownerClusterRole).toBe('paved-tenant-owner');
      expect(settings.desired.plans.map(p => p.name)).toEqual([
        'free',
        'starter',
        'pro',
        'enterprise',
      ]);
    });

    it('grants least privilege: the operator rules, nothing on Secrets, Leases only in its namespace', async () => {
      const r = await renderChart();
      const role = r.get('ClusterRole');
      expect(role.rules).toEqual(OPERATOR_RULES);
      for (const rule of role.rules) {
        expect([
          ...rule.apiGroups,
          ...rule.resources,
          ...rule.verbs,
        ]).not.toContain('*');
        expect(rule.resources).not.toContain('secrets');
      }
      expect(r.get('ClusterRoleBinding')).toMatchObject({
        roleRef: { kind: 'ClusterRole', name: 'paved-operator' },
        subjects: [
          {
            kind: 'ServiceAccount',
            name: 'paved-operator',
            namespace: 'paved-system',
          },
        ],
      });
      expect(r.get('Role')).toMatchObject({
        metadata: { namespace: 'paved-system' },
        rules: [
          {
            apiGroups: ['coordination.k8s.io'],
            resources: ['leases'],
            verbs: ['get', 'create', 'update'],
          },
        ],
      });
      expect(r.get('RoleBinding')).toMatchObject({
        metadata: { namespace: 'paved-system' },
        roleRef: { kind: 'Role', name: 'paved-operator-leader-election' },
        subjects: [
          {
            kind: 'ServiceAccount',
            name: 'paved-operator',
            namespace: 'paved-system',
          },
        ],
      });
    });

    it('publishes the metrics port through a Service that selects the pods', async () => {
      const r = await renderChart();
      const service = r.get('Service');
      const deployment = r.get('Deployment');
      expect(service.spec).toEqual({
        type: 'ClusterIP',
        selector: deployment.spec.selector.matchLabels,
        ports: [
          {
            name: 'metrics',
            port: 8080,
            targetPort: 'metrics',
            protocol: 'TCP',
          },
        ],
      });
    });
  });

  describe('with other values', () => {
    it('takes replicas, namespace, image, release name and lease timings', async () => {
      const r = await renderChart({
        release: 'platform',
        namespace: 'ignored-by-namespace-value',
        values: {
          replicas: 3,
          namespace: 'ops',
          image: {
            repository: 'registry.example.com/paved/operator',
            tag: '1.2.3',
            pullPolicy: 'Always',
          },
          leaderElection: {
            leaseName: 'paved-lock',
            leaseDuration: '30s',
            renewDeadline: '20s',
            retryPeriod: '500ms',
          },
          settings: { namespacePrefix: 'pv-', concurrency: 2 },
          extraArgs: ['--log-level=debug'],
          extraEnv: [{ name: 'PAVED_GATEWAY_PORTS', value: '80,443' }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'platform', operator: 'Exists' }],
        },
      });
      // <release>-<chart> when the release name lacks the chart's name.
      const deployment = r.get('Deployment', 'platform-paved-operator');
      expect(deployment.metadata.namespace).toBe('ops');
      expect(deployment.spec.replicas).toBe(3);
      const container = containerOf(deployment);
      expect(container.image).toBe('registry.example.com/paved/operator:1.2.3');
      expect(container.imagePullPolicy).toBe('Always');
      expect(container.args).toEqual(['--log-level=debug']);
      const pod = deployment.spec.template.spec;
      expect(pod.serviceAccountName).toBe('platform-paved-operator');
      expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
      expect(pod.tolerations).toEqual([
        { key: 'platform', operator: 'Exists' },
      ]);
      const namespaced = r.objects.filter(o => !o.kind.startsWith('Cluster'));
      expect(namespaced.map(o => o.metadata.namespace)).toEqual(
        namespaced.map(() => 'ops'),
      );
      expect(r.get('ClusterRoleBinding').subjects).toEqual([
        {
          kind: 'ServiceAccount',
          name: 'platform-paved-operator',
          namespace: 'ops',
        },
      ]);
      expect(r.get('RoleBinding').subjects[0].namespace).toBe('ops');

      const settings = settingsFromArgs(container.args, {
        ...envOf(deployment),
        POD_NAME: 'p-0',
        PAVED_LEASE_NAMESPACE: 'ops',
      });
      expect(settings.leaderElection).toEqual({
        namespace: 'ops',
        name: 'paved-lock',
        identity: 'p-0',
        leaseDurationMs: 30_000,
        renewDeadlineMs: 20_000,
        retryPeriodMs: 500,
      });
      expect(settings.logLevel).toBe('debug');
      expect(settings.concurrency).toBe(2);
      expect(settings.desired.namespacePrefix).toBe('pv-');
      expect(settings.desired.gatewayPorts).toEqual([80, 443]);
      expect(settings.desired.platformNamespaces).toEqual(['ops']);
    });

    it('without a published metrics port: no Service, no scrape annotations, the probes still on the port', async () => {
      const r = await renderChart({
        values: { metrics: { enabled: false, port: 9090 } },
      });
      expect(r.all('Service')).toEqual([]);
      const deployment = r.get('Deployment');
      expect(deployment.spec.template.metadata.annotations).toBeUndefined();
      const container = containerOf(deployment);
      expect(container.ports).toEqual([
        { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
      ]);
      expect(container.readinessProbe.httpGet.port).toBe('metrics');
      expect(envOf(deployment).PAVED_METRICS_PORT).toBe('9090');
    });

    it('with a ServiceMonitor that scrapes the metrics Service', async () => {
      const r = await renderChart({
        values: {
          metrics: {
            port: 9090,
            service: { port: 80 },
            serviceMonitor: {
              enabled: true,
              interval: '15s',
              labels: { release: 'kube-prometheus' },
            },
          },
        },
      });
      const service = r.get('Service');
      expect(service.spec.ports).toEqual([
        { name: 'metrics', port: 80, targetPort: 'metrics', protocol: 'TCP' },
      ]);
      const monitor = r.get('ServiceMonitor');
      expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(monitor.metadata.labels.release).toBe('kube-prometheus');
      expect(monitor.spec).toEqual({
        namespaceSelector: { matchNames: ['paved-system'] },
        selector: {
          matchLabels: {
            'app.kubernetes.io/name': 'paved-operator',
            'app.kubernetes.io/instance': 'paved-operator',
          },
        },
        endpoints: [
          {
            port: 'metrics',
            path: '/metrics',
            interval: '15s',
            scrapeTimeout: '10s',
          },
        ],
      });
      // The monitor's selector picks the Service.
      expect(service.metadata.labels).toMatchObject(
        monitor.spec.selector.matchLabels,
      );
    });

    it('one replica without leader election: no Lease Role', async () => {
      const r = await renderChart({
        values: { replicas: 1, leaderElection: { enabled: false } },
      });
      expect(r.all('Role')).toEqual([]);
      expect(r.all('RoleBinding')).toEqual([]);
      const env = envOf(r.get('Deployment'));
      expect(env.PAVED_LEADER_ELECTION).toBe('false');
      expect(env.PAVED_LEASE_NAME).toBeUndefined();
      expect(settingsFromArgs([], env).leaderElection).toBeUndefined();
    });

    it('an existing service account and no RBAC of its own', async () => {
      const r = await renderChart({
        values: {
          serviceAccount: { create: false, name: 'platform-operator' },
          rbac: { create: false },
        },
      });
      expect(r.objects.map(o => o.kind).sort()).toEqual([
        'Deployment',
        'Service',
      ]);
      expect(r.get('Deployment').spec.template.spec.serviceAccountName).toBe(
        'platform-operator',
      );
    });

    it('plans as JSON the operator reads', async () => {
      const deployment = (
        await renderChart({
          values: {
            settings: {
              plans: { tiny: { cpu: '100m', memory: '128Mi', maxApps: 1 } },
            },
          },
        })
      ).get('Deployment');
      const settings = settingsFromArgs([], envOf(deployment));
      expect(settings.desired.plans.find(p => p.name === 'tiny')).toMatchObject(
        { cpu: '100m', memory: '128Mi', maxApps: 1 },
      );
    });
  });

  describe('refuses bad values with a message', () => {
    it.each([
      [{ replicas: 'two' }, /at '\/replicas': got string, want integer/],
      [{ replicas: -1 }, /at '\/replicas': minimum/],
      [{ replica: 2 }, /additional properties 'replica' not allowed/],
      [
        { image: { pullPolicy: 'Sometimes' } },
        /at '\/image\/pullPolicy': value must be one of/,
      ],
      [
        { leaderElection: { leaseDuration: '15' } },
        /at '\/leaderElection\/leaseDuration': '15' does not match pattern/,
      ],
      [
        { settings: { namespacePrefix: 'much-too-long-' } },
        /at '\/settings\/namespacePrefix'/,
      ],
      [{ metrics: { port: 70000 } }, /at '\/metrics\/port': maximum/],
      [
        { extraArgs: ['--log-level', 'debug'] },
        /at '\/extraArgs\/0': '--log-level' does not match pattern/,
      ],
    ])('%j (the schema)', async (values, message) => {
      expect(await renderError(values)).toMatch(message);
    });

    it.each([
      [
        { leaderElection: { enabled: false } },
        'replicas is 2 but leaderElection.enabled is false: more than one replica needs leader election',
      ],
      [
        { leaderElection: { renewDeadline: '20s' } },
        'leaderElection needs leaseDuration > renewDeadline > retryPeriod, not 15s, 20s, 2s',
      ],
      [
        { metrics: { enabled: false, serviceMonitor: { enabled: true } } },
        'metrics.serviceMonitor.enabled needs metrics.enabled',
      ],
      [
        { serviceAccount: { create: false } },
        'serviceAccount.name is required when serviceAccount.create is false',
      ],
    ])('%j (the templates)', async (values, message) => {
      expect(await renderError(values)).toContain(message);
    });
  });
});
