import { appsOverLimit } from './appLimit';
import { appStatusFromKnative, userMessage } from './appStatus';
import { setCondition, setConditions } from './conditions';
import { appFixture } from '../__testUtils__/fixtures';
import { tenantUsage } from './tenantStatus';

const spec = appFixture('web', { port: 8080 }).spec;

function ksvc(status: object, generation = 1) {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 't', generation },
    status: { observedGeneration: generation, ...status },
  };
}

describe('conditions', () => {
  const t0 = new Date('2026-01-01T00:00:00.000Z');
  const t1 = new Date('2026-01-01T00:05:00.000Z');

  it('stamps a new condition with the current time', () => {
    const [c] = setCondition(
      undefined,
      {
        type: 'Ready',
        status: 'False',
        reason: 'Deploying',
        message: 'rolling out',
      },
      t0,
    );
    expect(c.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('keeps the transition time when only reason or message change', () => {
    const first = setCondition(
      undefined,
      {
        type: 'Ready',
        status: 'False',
        reason: 'A',
        message: 'a',
      },
      t0,
    );
    const second = setCondition(
      first,
      {
        type: 'Ready',
        status: 'False',
        reason: 'B',
        message: 'b',
        observedGeneration: 2,
      },
      t1,
    );
    expect(second).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'B',
        message: 'b',
        observedGeneration: 2,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  it('moves the transition time when the status flips, leaving others alone', () => {
    const first = setConditions(
      undefined,
      [
        { type: 'Ready', status: 'False', reason: 'A', message: '' },
        {
          type: 'NamespaceReady',
          status: 'True',
          reason: 'Applied',
          message: '',
        },
      ],
      t0,
    );
    const second = setCondition(
      first,
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: '',
      },
      t1,
    );
    expect(second.map(c => [c.type, c.lastTransitionTime])).toEqual([
      ['Ready', '2026-01-01T00:05:00Z'],
      ['NamespaceReady', '2026-01-01T00:00:00Z'],
    ]);
  });
});

describe('App status from Knative', () => {
  it('is Deploying before Knative has observed the latest generation', () => {
    const s = appStatusFromKnative(
      ksvc({ observedGeneration: 1 }, 2),
      undefined,
      spec,
      2,
    );
    expect(s.phase).toBe('Deploying');
    expect(s.condition.status).toBe('Unknown');
    expect(appStatusFromKnative(undefined, undefined, spec, 1).phase).toBe(
      'Deploying',
    );
  });

  it('is Ready with URL, revisions and instances when Knative is ready', () => {
    const s = appStatusFromKnative(
      ksvc({
        url: 'http://web.t.example.com',
        latestCreatedRevisionName: 'web-00002',
        latestReadyRevisionName: 'web-00002',
        conditions: [{ type: 'Ready', status: 'True' }],
      }),
      {
        metadata: { name: 'web-00002' },
        status: { actualReplicas: 2, desiredReplicas: 3 },
      },
      spec,
      1,
    );
    expect(s).toMatchObject({
      phase: 'Ready',
      url: 'http://web.t.example.com',
      latestCreatedRevision: 'web-00002',
      latestReadyRevision: 'web-00002',
      instances: { desired: 3, ready: 2 },
      condition: { type: 'KnativeServiceReady', status: 'True' },
    });
    expect(s.message).toBeUndefined();
  });

  it('is Failed with an actionable message for an image that cannot be pulled', () => {
    const s = appStatusFromKnative(
      ksvc({
        conditions: [
          {
            type: 'ConfigurationsReady',
            status: 'False',
            reason: 'RevisionFailed',
            message:
              'Revision "web-00001" failed with message: Unable to fetch image "ghcr.io/acme/web:1.0.0": failed to resolve image to digest: GET https://ghcr.io/v2/acme/web/manifests/1.0.0: MANIFEST_UNKNOWN.',
          },
          {
            type: 'Ready',
            status: 'False',
            reason: 'RevisionFailed',
            message: 'Revision "web-00001" failed',
          },
        ],
      }),
      undefined,
      spec,
      1,
    );
    expect(s.phase).toBe('Failed');
    expect(s.message).toMatch(
      /^The image ghcr.io\/acme\/web:1.0.0 could not be pulled/,
    );
    expect(s.condition).toMatchObject({
      status: 'False',
      reason: 'RevisionFailed',
    });
  });

  it('names quota exhaustion and crashing apps in words the user can act on', () => {
    expect(
      userMessage(
        'RevisionFailed',
        'pods "web-00001-deployment-x" is forbidden: exceeded quota: paved-quota, requested: limits.cpu=250m',
        spec,
      ),
    ).toMatch(/^The tenant's quota is used up/);
    expect(
      userMessage(
        'RevisionFailed',
        'Container failed with: exit status 1 ExitCode1',
        spec,
      ),
    ).toMatch(/did not answer on port 8080/);
    // Not the app's fault: no node can hold it (seen by the fault harness).
    const unschedulable = userMessage(
      'RevisionFailed',
      'Revision "web-00002" failed with message: 0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
      spec,
    );
    expect(unschedulable).toMatch(/^No node has room for an instance/);
    expect(unschedulable).not.toMatch(/port 8080/);
    expect(userMessage('Other', 'something odd', spec)).toBe('something odd');
  });

  it('stays Deploying while Knative is still unsure', () => {
    const s = appStatusFromKnative(
      ksvc({
        conditions: [
          { type: 'Ready', status: 'Unknown', reason: 'RevisionMissing' },
        ],
      }),
      undefined,
      spec,
      1,
    );
    expect(s.phase).toBe('Deploying');
    expect(s.message).toBeUndefined();
  });
});

describe('tenant usage', () => {
  it('reads used and hard from the quota status', () => {
    expect(
      tenantUsage(
        {
          metadata: { name: 'paved-quota' },
          status: {
            hard: {
              'requests.cpu': '1',
              'requests.memory': '1Gi',
            },
            used: {
              'requests.cpu': '250m',
              'requests.memory': '0',
            },
          },
        },
        { used: 1, hard: 3 },
      ),
    ).toEqual({
      cpu: { used: '250m', hard: '1' },
      memory: { used: '0', hard: '1Gi' },
      apps: { used: '1', hard: '3' },
    });
    expect(tenantUsage(undefined, { used: 0, hard: 3 })).toEqual({
      apps: { used: '0', hard: '3' },
    });
  });

  it('shows the quota line that limits: memory limits once they are nearer their hard value than requests', () => {
    const usage = tenantUsage(
      {
        metadata: { name: 'paved-quota' },
        status: {
          hard: {
            'requests.cpu': '1500m',
            'requests.memory': '1536Mi',
            'limits.memory': '1536Mi',
          },
          used: {
            'requests.cpu': '275m',
            'requests.memory': '320Mi',
            'limits.memory': '1280Mi',
          },
        },
      },
      { used: 1, hard: 3 },
    );
    expect(usage?.memory).toEqual({ used: '1280Mi', hard: '1536Mi' });
    expect(usage?.cpu).toEqual({ used: '275m', hard: '1500m' });
  });
});

describe('app limit', () => {
  const app = (name: string, created: string, deleting = false) => ({
    metadata: {
      name,
      creationTimestamp: created,
      ...(deleting ? { deletionTimestamp: created } : {}),
    },
  });

  it('lets the oldest maxApps apps run and holds back the rest', () => {
    const over = appsOverLimit(
      [
        app('c', '2026-01-03T00:00:00Z'),
        app('a', '2026-01-01T00:00:00Z'),
        app('b2', '2026-01-02T00:00:00Z'),
        app('b1', '2026-01-02T00:00:00Z'),
      ],
      2,
    );
    expect([...over].sort()).toEqual(['b2', 'c']);
  });

  it('keeps admitted apps running, whatever their age or name', () => {
    const over = appsOverLimit(
      [
        app('a-new', '2026-01-01T00:00:00Z'),
        app('z-old', '2026-01-01T00:00:00Z'),
      ],
      1,
      new Set(['z-old']),
    );
    expect([...over]).toEqual(['a-new']);
  });

  it('does not count apps being deleted', () => {
    const over = appsOverLimit(
      [
        app('old', '2026-01-01T00:00:00Z', true),
        app('new', '2026-01-02T00:00:00Z'),
      ],
      1,
    );
    expect(over.size).toBe(0);
  });
});
