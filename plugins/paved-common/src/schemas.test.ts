import fc from 'fast-check';
import { appSpecSchema, tenantSpecSchema } from './schemas';
import { DEFAULT_PLANS, effectiveLimits, resolvePlans } from './plans';

function issues(result: {
  success: boolean;
  error?: { issues: Array<{ path: PropertyKey[]; message: string }> };
}) {
  return (result.error?.issues ?? []).map(
    i => `${i.path.join('.')}: ${i.message}`,
  );
}

describe('tenant spec', () => {
  it('fills defaults', () => {
    const spec = tenantSpecSchema.parse({
      displayName: 'Team A',
      owner: 'group:default/team-a',
    });
    expect(spec).toEqual({
      displayName: 'Team A',
      owner: 'group:default/team-a',
      plan: 'free',
      networkIsolation: true,
    });
  });

  it('reports each bad field with its path and what to fix', () => {
    const result = tenantSpecSchema.safeParse({
      displayName: '',
      owner: 'team-a',
      plan: 'Gold!',
      limits: { cpu: 'lots', maxApps: 0 },
      extra: true,
    });
    expect(issues(result)).toEqual(
      expect.arrayContaining([
        'displayName: Display name is empty',
        expect.stringMatching(/^owner: .*group:default\/team-a/),
        expect.stringMatching(/^plan: Plan must be a plan name/),
        expect.stringMatching(/^limits.cpu: CPU "lots" is not a CPU quantity/),
        'limits.maxApps: maxApps must be at least 1',
        expect.stringMatching(/extra/),
      ]),
    );
  });
});

describe('app spec', () => {
  it('fills defaults', () => {
    expect(appSpecSchema.parse({ image: 'nginx:1.27' })).toEqual({
      image: 'nginx:1.27',
      port: 8080,
      env: [],
      scaling: { minInstances: 0, maxInstances: 10, targetConcurrency: 100 },
      resources: { cpu: '250m', memory: '256Mi' },
      domains: [],
      paused: false,
    });
  });

  it('rejects bad input with field paths', () => {
    const result = appSpecSchema.safeParse({
      image: 'nginx',
      port: 70000,
      env: [
        { name: 'A', value: '1' },
        { name: 'A', value: '2' },
        { name: 'B' },
        { name: 'PORT', value: '1' },
      ],
      scaling: { minInstances: 5, maxInstances: 2 },
      resources: { cpu: '100', memory: '1' },
      domains: ['a.example.com', 'a.example.com', 'nodot'],
    });
    expect(issues(result)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^image: .*no tag or digest/),
        expect.stringMatching(/^port: Port 70000 is out of range/),
        'env.1.name: Env var A is set twice; keep one',
        'env.2: Give an env var either a value or a secretKeyRef, not both',
        'env.3.name: Env var PORT is set by the platform; choose another name',
        'scaling: minInstances must not be greater than maxInstances',
        expect.stringMatching(/^resources.cpu: CPU "100" is out of range/),
        expect.stringMatching(/^resources.memory: Memory "1" is out of range/),
        'domains: Domains must be unique',
        expect.stringMatching(/^domains.2: Domain "nodot"/),
      ]),
    );
  });

  it('never accepts an env entry with both or neither of value and secretKeyRef', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), (hasValue, hasRef) => {
        const entry = {
          name: 'X',
          ...(hasValue ? { value: 'v' } : {}),
          ...(hasRef ? { secretKeyRef: { name: 's', key: 'k' } } : {}),
        };
        const ok = appSpecSchema.safeParse({
          image: 'a:1',
          env: [entry],
        }).success;
        expect(ok).toBe(hasValue !== hasRef);
      }),
    );
  });
});

describe('plans', () => {
  it('has the four default plans', () => {
    expect(DEFAULT_PLANS.map(p => p.name)).toEqual([
      'free',
      'starter',
      'pro',
      'enterprise',
    ]);
  });

  it('lets config replace and add plans', () => {
    const plans = resolvePlans({
      free: { cpu: '500m', memory: '512Mi', maxApps: 1 },
      huge: { cpu: '64', memory: '256Gi', maxApps: 1000, description: 'Huge' },
    });
    expect(plans.find(p => p.name === 'free')).toEqual({
      name: 'free',
      description: 'For trying things out',
      cpu: '500m',
      memory: '512Mi',
      maxApps: 1,
    });
    expect(plans.map(p => p.name)).toEqual([
      'free',
      'starter',
      'pro',
      'enterprise',
      'huge',
    ]);
  });

  it('rejects bad plan config with the config path', () => {
    expect(() =>
      resolvePlans({ pro: { cpu: 'x', memory: '1Gi', maxApps: 1 } }),
    ).toThrow(/paved\.plans\.pro\.cpu: CPU "x" is not a CPU quantity/);
  });

  it('applies overrides on top of the plan', () => {
    expect(effectiveLimits(DEFAULT_PLANS[1], { maxApps: 20 })).toEqual({
      cpu: '4',
      memory: '8Gi',
      maxApps: 20,
    });
  });
});
