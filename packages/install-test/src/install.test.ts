/**
 * Paved installed into a fresh Backstage app by its install guide
 * (plugins/INSTALL.md), against a real cluster with a real node, Knative
 * and Traefik:
 *
 * - Paved's packages are built and packed from this checkout; a new app is
 *   made with `@backstage/create-app` and each step of the guide is applied
 *   to it (dependencies, backend lines, configuration, templates, the
 *   Kubernetes plugin's service account); the app installs with its own
 *   Yarn and starts with `yarn start`, as a team's does;
 * - the operator runs in this process (the chart's own test runs it from the
 *   chart); the app's backend writes to the cluster as the guide configures it;
 * - the guest (the example org's, in the group `guests`) creates a tenant and
 *   deploys the example image through the app's `/api/paved`; the app's URL
 *   answers from its container;
 * - the catalog has the app as a Component; Backstage's own Kubernetes
 *   backend finds its running pod, and in Chromium the entity page's
 *   **Deployment** tab (Paved's frontend plugin) shows it Ready and the
 *   **Kubernetes** tab (`@backstage/plugin-kubernetes`) shows that pod.
 *
 * The app, its log and the screenshots are under .paved/install-test/.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Browser, Page } from 'playwright-core';
import { launchChromium } from '@paved/e2e-tests';
import YAML from 'yaml';
import {
  EXAMPLE_APP_IMAGE,
  ensureControlPlaneBinaries,
  eventually,
  requestThroughIngress,
  useDataPlaneCluster,
} from '@paved/test-cluster';
import {
  AppView,
  PavedApiClient,
  appEntityName,
} from '@paved/plugin-paved-common';
import { Operator } from '@paved/operator';
import { readGuide } from './guide';
import {
  GUIDE,
  REPO_ROOT,
  RunningApp,
  applyGuide,
  createApp,
  packPaved,
  startApp,
  yarn,
} from './freshApp';

const execFileAsync = promisify(execFile);

const WORK = path.join(REPO_ROOT, '.paved', 'install-test');
const APP_DIR = path.join(WORK, 'fresh-app');
const LOG = path.join(WORK, 'install.log');
const SCREENSHOTS = path.join(WORK, 'screenshots');
const BACKEND_URL = 'http://localhost:7107';
const APP_URL = 'http://localhost:3107';
const TENANT = 'fresh';
const APP = 'hello';
const GUESTS = 'group:default/guests';

jest.setTimeout(5 * 60_000);

const started = Date.now();
const log = (line: string) => {
  const stamped = `[install-test +${Math.round(
    (Date.now() - started) / 1000,
  )}s] ${line}`;
  fs.appendFileSync(LOG, `${stamped}\n`);
  // eslint-disable-next-line no-console
  console.log(stamped);
};

describe('Paved installed into a fresh Backstage app, by the guide', () => {
  const timings: Record<string, number> = {};
  const timed = async <T>(what: string, work: () => Promise<T>) => {
    const t = Date.now();
    const result = await work();
    timings[what] = Date.now() - t;
    log(`${what}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
    return result;
  };

  /** The guide's manifests, applied once the cluster runs. */
  const manifests: string[] = [];

  // Packing, making and installing the app need no cluster, and hold
  // nothing that other suites wait for: the machine's one node is taken
  // (below) only once the app is ready to start.
  beforeAll(async () => {
    fs.rmSync(WORK, { recursive: true, force: true });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const [tarballs] = await Promise.all([
      timed('build and pack Paved', () =>
        packPaved(path.join(WORK, 'packages'), LOG, log),
      ),
      timed('create-app', () => createApp(APP_DIR, LOG)),
    ]);
    const steps = readGuide(GUIDE);
    log(`the guide has ${steps.length} steps for the test`);
    await timed(
      'apply the guide (its Backstage upgrade installs the app)',
      () =>
        applyGuide(APP_DIR, steps, {
          tarballs,
          logFile: LOG,
          log,
          kubectlApply: async yaml => {
            manifests.push(yaml);
          },
        }),
    );
    // What the test changes besides the guide: its ports, and the guest
    // signs in as the example org's user (a member of `guests`).
    fs.writeFileSync(
      path.join(APP_DIR, 'app-config.local.yaml'),
      YAML.stringify({
        app: { baseUrl: APP_URL },
        backend: {
          baseUrl: BACKEND_URL,
          listen: { port: 7107 },
          cors: { origin: APP_URL },
        },
        auth: { providers: { guest: { userEntityRef: 'user:default/guest' } } },
      }),
    );
    await timed('yarn install (Paved added)', () =>
      yarn(APP_DIR, APP_DIR, ['install'], { logFile: LOG }),
    );
  }, 30 * 60_000);

  // Knative's own autoscaler defaults: the pod stays while the test looks.
  const cluster = useDataPlaneCluster({ progressDeadline: '60s' });
  let kubectl: (...args: string[]) => Promise<string>;
  let operator: Operator;
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let guest: PavedApiClient;
  let token: string;
  let deployed: AppView;
  /** A screenshot of where the browser test stopped, if it did not finish. */
  let onFailure: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    const binary = (await ensureControlPlaneBinaries()).kubectl;
    kubectl = async (...args) =>
      (
        await execFileAsync(
          binary,
          ['--kubeconfig', cluster().kubeconfigPath, ...args],
          { maxBuffer: 16 << 20 },
        )
      ).stdout;
    for (const [i, yaml] of manifests.entries()) {
      const file = path.join(WORK, `guide-manifests-${i + 1}.yaml`);
      fs.writeFileSync(file, yaml);
      await kubectl('apply', '-f', file);
    }
    log('applied the guide’s manifests to the cluster');

    operator = await Operator.create({
      kubeConfig: cluster().kubeConfig,
      concurrency: 4,
      pollMs: 200,
    });
    await operator.start();

    // The guide's `kubectl create token` line.
    const clusterToken = (
      await kubectl(
        'create',
        'token',
        'backstage-kubernetes',
        '-n',
        'backstage',
        '--duration=1h',
      )
    ).trim();
    const kubeconfig = YAML.parse(
      fs.readFileSync(cluster().kubeconfigPath, 'utf8'),
    );
    app = await timed('yarn start until it answers', () =>
      startApp(
        APP_DIR,
        { backend: BACKEND_URL, app: APP_URL },
        {
          logFile: LOG,
          timeoutMs: 10 * 60_000,
          env: {
            PAVED_KUBECONFIG: cluster().kubeconfigPath,
            PAVED_SECRETS_KEY: 'install-test-only-not-a-secret',
            PAVED_CLUSTER_URL: cluster().server,
            PAVED_CLUSTER_TOKEN: clusterToken,
            PAVED_CLUSTER_CA_DATA:
              kubeconfig.clusters[0].cluster['certificate-authority-data'],
          },
        },
      ),
    );

    // The guest's token, once the catalog knows the guest's group.
    token = await eventually(
      'a guest token with the group guests',
      async () => {
        const response = await fetch(`${BACKEND_URL}/api/auth/guest/refresh`, {
          headers: { 'x-requested-with': 'XMLHttpRequest' },
        });
        if (!response.ok) throw new Error(`${response.status}`);
        const { backstageIdentity } = await response.json();
        return backstageIdentity.identity.ownershipEntityRefs.includes(GUESTS)
          ? (backstageIdentity.token as string)
          : undefined;
      },
      120_000,
      { intervalMs: 1000 },
    );
    guest = new PavedApiClient({ baseUrl: `${BACKEND_URL}/api/paved`, token });

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(60_000);
  }, 40 * 60_000);

  afterAll(async () => {
    await onFailure?.().catch(() => {});
    await browser?.close();
    await app?.stop();
    await operator?.stop();
    log(
      `timings (s): ${Object.entries(timings)
        .map(([what, ms]) => `${what} ${(ms / 1000).toFixed(0)}`)
        .join(', ')}; whole file ${((Date.now() - started) / 1000).toFixed(0)}`,
    );
  }, 120_000);

  const shot = (name: string) =>
    page.screenshot({
      path: path.join(SCREENSHOTS, `${name}.png`),
      fullPage: true,
    });

  it('the app was made by the current create-app and has Paved from the packed tarballs', () => {
    const backend = JSON.parse(
      fs.readFileSync(
        path.join(APP_DIR, 'packages/backend/package.json'),
        'utf8',
      ),
    );
    expect(backend.dependencies).toMatchObject({
      '@backstage/plugin-kubernetes-backend': expect.any(String),
      '@paved/plugin-paved-backend': '^0.1.0',
      '@paved/plugin-permission-backend-module-paved': '^0.1.0',
    });
    const index = fs.readFileSync(
      path.join(APP_DIR, 'packages/backend/src/index.ts'),
      'utf8',
    );
    expect(index).toContain("import('@paved/plugin-paved-backend')");
    expect(index).not.toContain('allow-all-policy');
    // What the app installed is the packed build, not this checkout's source.
    const installedBackend = JSON.parse(
      fs.readFileSync(
        path.join(
          APP_DIR,
          'node_modules/@paved/plugin-paved-backend/package.json',
        ),
        'utf8',
      ),
    );
    expect(installedBackend.main).toBe('dist/index.cjs.js');
    expect(
      fs.existsSync(
        path.join(
          APP_DIR,
          'node_modules/@paved/plugin-paved-backend/dist/index.cjs.js',
        ),
      ),
    ).toBe(true);
  });

  it('the guest creates a tenant for their group and deploys an app through the API; it answers at its URL', async () => {
    await guest.createTenant({
      name: TENANT,
      displayName: 'Fresh app',
      owner: GUESTS,
      plan: 'starter',
    });
    await eventually(
      `tenant ${TENANT} Active`,
      async () => (await guest.getTenant(TENANT)).status.phase === 'Active',
      120_000,
    );
    await guest.deployApp(TENANT, APP, {
      image: EXAMPLE_APP_IMAGE,
      port: 8080,
    });
    deployed = await eventually(
      `app ${APP} Ready`,
      async () => {
        const view = await guest.getApp(TENANT, APP);
        return view.status.phase === 'Ready' && view.status.url
          ? view
          : undefined;
      },
      180_000,
      { intervalMs: 1000 },
    );
    expect(deployed.status.url).toBe(
      `http://${APP}.tenant-${TENANT}.localhost`,
    );
    const answer = await requestThroughIngress(
      cluster().dataPlane!,
      deployed.status.url!,
      { timeoutMs: 60_000, retry: true },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Hello');
  });

  const entityName = appEntityName(TENANT, APP);
  /** The app's running pods, as the cluster lists them. */
  const runningPods = async () =>
    (
      JSON.parse(
        await kubectl(
          'get',
          'pods',
          '-n',
          `tenant-${TENANT}`,
          '-l',
          `backstage.io/kubernetes-id=${APP}`,
          '-o',
          'json',
        ),
      ).items as any[]
    ).filter(p => p.status.phase === 'Running');
  /** Wakes the app (Knative may have scaled it to zero) and returns its pods. */
  const wake = async () => {
    await requestThroughIngress(cluster().dataPlane!, deployed.status.url!, {
      timeoutMs: 60_000,
      retry: true,
    });
    return eventually('a running pod', async () => {
      const pods = await runningPods();
      return pods.length ? pods : undefined;
    });
  };

  /** The app's Component, as the catalog serves it. */
  let entity: any;

  it('the catalog has the app as a Component with the Kubernetes annotations', async () => {
    entity = await eventually(
      `component ${entityName} in the catalog`,
      async () => {
        const response = await fetch(
          `${BACKEND_URL}/api/catalog/entities/by-name/component/default/${entityName}`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        return response.ok ? response.json() : undefined;
      },
      120_000,
      { intervalMs: 1000 },
    );
    expect(entity.metadata.annotations).toMatchObject({
      'backstage.io/kubernetes-id': APP,
      'backstage.io/kubernetes-namespace': `tenant-${TENANT}`,
      'paved.dev/app': `${TENANT}/${APP}`,
    });
    expect(entity.spec.owner).toBe(GUESTS);
  });

  it("Backstage's Kubernetes backend finds the app's running pod", async () => {
    const pods = await wake();
    const response = await fetch(
      `${BACKEND_URL}/api/kubernetes/services/${APP}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ entity }),
      },
    );
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.items).toHaveLength(1);
    expect(body.items[0].cluster.name).toBe('paved');
    // The test cluster runs no metrics-server, so the plugin's look-up of
    // pod metrics is the one error it may report.
    expect(
      body.items[0].errors.filter(
        (e: any) => !e.resourcePath?.startsWith('/apis/metrics.k8s.io/'),
      ),
    ).toEqual([]);
    const found = body.items[0].resources.find((r: any) => r.type === 'pods')
      .resources as any[];
    expect(found.map(p => p.metadata.name)).toEqual(
      expect.arrayContaining(pods.map(p => p.metadata.name)),
    );
    for (const pod of found) {
      expect(pod.metadata.namespace).toBe(`tenant-${TENANT}`);
    }
  });

  it('in the browser, the entity page has Paved’s Deployment tab and the Kubernetes tab with the pod', async () => {
    onFailure = () => shot('failed');
    await page.goto(`${APP_URL}/catalog/default/component/${entityName}`);
    const enter = page.getByRole('button', { name: /enter/i }).first();
    const title = page.getByText(APP, { exact: true }).first();
    await Promise.race([enter.waitFor(), title.waitFor()]);
    if (await enter.isVisible()) await enter.click();

    // Both tabs are in the page's header (1.57's tabs are links to their
    // routes, which the test then opens).
    await page.getByText('Kubernetes', { exact: true }).first().waitFor();
    await page.getByText('Deployment', { exact: true }).first().waitFor();
    await page.goto(
      `${APP_URL}/catalog/default/component/${entityName}/deployment`,
    );
    await page
      .locator('[data-testid="paved-phase"]', { hasText: 'Ready' })
      .first()
      .waitFor();
    await expect(
      page.getByText(deployed.status.url!).count(),
    ).resolves.toBeGreaterThan(0);
    await shot('deployment-tab');

    const pods = await wake();
    await page.goto(
      `${APP_URL}/catalog/default/component/${entityName}/kubernetes`,
    );
    // A row per cluster, with its pod count (and a warning: the pod
    // metrics it asks for are not there, no metrics-server runs here).
    // Opened, it shows the pods' Deployment, Knative's
    // `<revision>-deployment`, a row of its own; opened (not by its name,
    // which opens a drawer), it lists the pods by name.
    const clusterRow = page.getByText('paved', { exact: true }).first();
    await clusterRow.waitFor();
    await page
      .getByText(`${pods.length} pod${pods.length === 1 ? '' : 's'}`, {
        exact: true,
      })
      .first()
      .waitFor();
    await clusterRow.click();
    const deployment = page
      .getByRole('button', { name: new RegExp(`${APP}-00001-deployment`) })
      .first();
    await deployment.waitFor();
    await deployment.click();
    await page.getByText(pods[0].metadata.name).first().waitFor();
    await shot('kubernetes-tab');
    onFailure = undefined;
  });
});
