import { desiredDomainMappings } from './domainMappings';
import { appFixture } from '../__testUtils__/fixtures';
import { desiredKnativeService } from './knativeService';

describe('Knative Service', () => {
  it('maps the App spec onto the revision template', () => {
    const app = appFixture('web', {
      image: 'ghcr.io/acme/web:2.0.0',
      port: 3000,
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'TOKEN', secretKeyRef: { name: 'web-secrets', key: 'token' } },
      ],
      scaling: { minInstances: 1, maxInstances: 4, targetConcurrency: 50 },
      resources: { cpu: '500m', memory: '512Mi' },
    });
    const ksvc = desiredKnativeService('team-a', app, app.spec) as any;
    expect(ksvc.apiVersion).toBe('serving.knative.dev/v1');
    expect(ksvc.metadata).toMatchObject({
      name: 'web',
      namespace: 'tenant-team-a',
      labels: {
        'app.kubernetes.io/managed-by': 'paved',
        'paved.dev/tenant': 'team-a',
        'paved.dev/app': 'web',
        'backstage.io/kubernetes-id': 'web',
      },
    });
    expect(ksvc.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'paved.dev/v1alpha1',
        kind: 'App',
        name: 'web',
        uid: 'app-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const template = ksvc.spec.template;
    expect(template.metadata.annotations).toEqual({
      'autoscaling.knative.dev/min-scale': '1',
      'autoscaling.knative.dev/max-scale': '4',
      'autoscaling.knative.dev/target': '50',
      // Paved sizes the queue-proxy, so plans can count on it.
      'queue.sidecar.serving.knative.dev/cpu-resource-request': '25m',
      'queue.sidecar.serving.knative.dev/memory-resource-request': '64Mi',
      'queue.sidecar.serving.knative.dev/memory-resource-limit': '64Mi',
    });
    expect(template.metadata.labels['backstage.io/kubernetes-id']).toBe('web');
    expect(template.spec.containers).toEqual([
      {
        name: 'app',
        image: 'ghcr.io/acme/web:2.0.0',
        ports: [{ containerPort: 3000 }],
        env: [
          { name: 'MODE', value: 'prod' },
          {
            name: 'TOKEN',
            valueFrom: { secretKeyRef: { name: 'web-secrets', key: 'token' } },
          },
        ],
        resources: {
          requests: { cpu: '500m', memory: '512Mi' },
          limits: { cpu: '500m', memory: '512Mi' },
        },
      },
    ]);
  });

  it('is byte-identical for the same spec, whatever the input key order', () => {
    const a = appFixture('web', {
      image: 'ghcr.io/acme/web:1.0.0',
      scaling: { maxInstances: 3, minInstances: 0, targetConcurrency: 10 },
      resources: { memory: '128Mi', cpu: '100m' },
    });
    const b = appFixture('web', {
      resources: { cpu: '100m', memory: '128Mi' },
      scaling: { targetConcurrency: 10, minInstances: 0, maxInstances: 3 },
      image: 'ghcr.io/acme/web:1.0.0',
    });
    expect(JSON.stringify(desiredKnativeService('team-a', a, a.spec))).toBe(
      JSON.stringify(desiredKnativeService('team-a', b, b.spec)),
    );
  });

  it('changes the template when the image changes', () => {
    const a = appFixture('web', { image: 'ghcr.io/acme/web:1.0.0' });
    const b = appFixture('web', { image: 'ghcr.io/acme/web:1.0.1' });
    expect(
      JSON.stringify((desiredKnativeService('t', a, a.spec) as any).spec),
    ).not.toBe(
      JSON.stringify((desiredKnativeService('t', b, b.spec) as any).spec),
    );
  });
});

describe('redeploy', () => {
  it("copies the App's redeploy token into the template, so only a redeploy makes a new revision", () => {
    const plain = appFixture('web', { image: 'ghcr.io/acme/web:1.0.0' });
    const redeployed = {
      ...plain,
      metadata: {
        ...plain.metadata,
        annotations: { 'paved.dev/redeploy-token': 'abc' },
      },
    };
    const template = (app: typeof plain) =>
      (desiredKnativeService('t', app, app.spec) as any).spec.template;
    expect(template(plain).metadata.annotations).not.toHaveProperty(
      'paved.dev/redeploy-token',
    );
    expect(
      template(redeployed).metadata.annotations['paved.dev/redeploy-token'],
    ).toBe('abc');
  });
});

describe('DomainMappings', () => {
  it('makes one mapping per domain, named by it, pointing at the Service', () => {
    const app = appFixture('web', {
      domains: ['www.example.com', 'api.example.com'],
    });
    const mappings = desiredDomainMappings('team-a', app, app.spec) as any[];
    expect(mappings.map(m => m.metadata.name)).toEqual([
      'api.example.com',
      'www.example.com',
    ]);
    expect(mappings[0]).toMatchObject({
      apiVersion: 'serving.knative.dev/v1beta1',
      kind: 'DomainMapping',
      metadata: {
        namespace: 'tenant-team-a',
        labels: { 'paved.dev/app': 'web' },
      },
      spec: {
        ref: {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Service',
          name: 'web',
          namespace: 'tenant-team-a',
        },
      },
    });
  });

  it('makes none without domains', () => {
    const app = appFixture();
    expect(desiredDomainMappings('team-a', app, app.spec)).toEqual([]);
  });

  it("puts the TLS Secret of spec.tls on its domain's mapping only", () => {
    const app = appFixture('web', {
      domains: ['www.example.com', 'api.example.com'],
      tls: [
        { domain: 'www.example.com', secretName: 'paved-tls-www.example.com' },
      ],
    });
    const mappings = desiredDomainMappings('team-a', app, app.spec) as any[];
    expect(mappings.map(m => [m.metadata.name, m.spec.tls])).toEqual([
      ['api.example.com', undefined],
      ['www.example.com', { secretName: 'paved-tls-www.example.com' }],
    ]);
  });
});
