import { EXAMPLE_APP_IMAGE, eventually } from '@paved/test-cluster';
import { APPS, TENANTS } from '@paved/kube';
import {
  DATA_PLANE_START_TIMEOUT_MS,
  QUICK_SCALE_TO_ZERO,
} from '../__testUtils__/cluster';
import { useOperatorSuite } from '../__testUtils__/operatorSuite';
import {
  applyApp,
  applyTenant,
  statusOf,
} from '../__testUtils__/operatorHarness';

jest.setTimeout(240_000);

// Real failures on a real node, as Knative reports them: an image that is not
// there, a container that exits, a pod the tenant's quota refuses. The App's
// message must turn each into advice its owner can act on.
describe('App status from what Knative reports', () => {
  const handle = useOperatorSuite({
    cluster: { capsule: false, cilium: false, dataPlane: QUICK_SCALE_TO_ZERO },
    operator: {},
  });

  beforeAll(async () => {
    await applyTenant(handle.client, 'kn', { plan: 'free' });
    await eventually(
      'tenant Active',
      async () =>
        statusOf(await handle.client.get(TENANTS, 'kn')).phase === 'Active',
    );
  }, DATA_PLANE_START_TIMEOUT_MS);

  const appStatus = (name: string, phase: string) =>
    eventually(
      `${name} ${phase}`,
      async () => {
        const a = await handle.client.get(APPS, name, 'tenant-kn');
        return statusOf(a).phase === phase && statusOf(a);
      },
      180_000,
    );
  const deleteApp = (name: string) =>
    handle.client.delete(APPS, name, 'tenant-kn');

  it('explains an image that is not there', async () => {
    const image = 'registry.localhost/acme/missing:1.0.0';
    await applyApp(handle.client, 'kn', 'missing', { image });
    const status = await appStatus('missing', 'Failed');
    expect(status.message).toMatch(
      /^The image registry.localhost\/acme\/missing:1.0.0 could not be pulled\. Check the image name and tag/,
    );
    expect(status.conditions.find((c: any) => c.type === 'Ready').status).toBe(
      'False',
    );
    await deleteApp('missing');
  });

  it('explains a container that exits', async () => {
    await applyApp(handle.client, 'kn', 'crashy', {
      env: [{ name: 'CRASH_ON_START', value: '1' }],
    });
    const status = await appStatus('crashy', 'Failed');
    expect(status.message).toMatch(
      /^The app did not start or did not answer on port 8080\..*look at its logs/,
    );
    await deleteApp('crashy');
  });

  it("explains an app that the tenant's quota cannot hold", async () => {
    // The free plan's quota is 1500m of CPU requests: no 2-core instance fits.
    await applyApp(handle.client, 'kn', 'greedy', {
      resources: { cpu: '2', memory: '64Mi' },
    });
    const status = await appStatus('greedy', 'Failed');
    expect(status.message).toMatch(/^The tenant's quota is used up/);
    expect(status.message).toContain('exceeded quota: paved-quota');
    await deleteApp('greedy');
  });

  it('recovers once a fixed image is deployed, and reports mapped domains', async () => {
    await applyApp(handle.client, 'kn', 'fixme', {
      image: 'registry.localhost/acme/fixme:1.0.0',
    });
    await appStatus('fixme', 'Failed');
    await applyApp(handle.client, 'kn', 'fixme', {
      image: EXAMPLE_APP_IMAGE,
      domains: ['fixme.example.org'],
    });
    // Knative maps the domain once the Service has an address, a moment
    // after the fixed revision is Ready.
    const status = await eventually(
      'fixme Ready with its domain mapped',
      async () => {
        const s = statusOf(await handle.client.get(APPS, 'fixme', 'tenant-kn'));
        const domains = s.conditions?.find(
          (c: any) => c.type === 'DomainsReady',
        );
        return s.phase === 'Ready' && domains?.status === 'True' && s;
      },
      180_000,
    );
    expect(status.message).toBeUndefined();
    expect(status.url).toBe('http://fixme.tenant-kn.localhost');
    expect(status.latestReadyRevision).toBe('fixme-00002');
    expect(
      status.conditions.find((c: any) => c.type === 'DomainsReady'),
    ).toMatchObject({
      status: 'True',
      reason: 'Mapped',
    });
  });
});
