import { envFromArgs, settingsFromArgs, settingsFromEnv } from './config';

describe('settingsFromEnv', () => {
  it('has defaults that need no configuration', () => {
    const s = settingsFromEnv({});
    expect(s.desired.namespacePrefix).toBe('tenant-');
    expect(s.concurrency).toBe(8);
    expect(s.leaderElection).toEqual({
      namespace: 'paved-system',
      name: 'paved-operator',
      identity: undefined,
    });
    expect(s.metricsPort).toBe(8080);
    expect(s.desired.plans.map(p => p.name)).toEqual([
      'free',
      'starter',
      'pro',
      'enterprise',
    ]);
  });

  it('reads every setting', () => {
    const s = settingsFromEnv({
      PAVED_NAMESPACE_PREFIX: 'pv-',
      PAVED_CONCURRENCY: '16',
      PAVED_LEASE_NAMESPACE: 'ops',
      PAVED_LEASE_NAME: 'lease',
      POD_NAME: 'operator-0',
      PAVED_METRICS_PORT: '9000',
      PAVED_GATEWAY_NAMESPACES: 'contour, envoy',
      PAVED_GATEWAY_CIDRS: '10.244.0.1/32, fd00::1/128',
      PAVED_GATEWAY_PORTS: '80,8443',
      PAVED_OWNER_GROUP_PREFIX: 'oidc:',
      PAVED_PLANS: JSON.stringify({
        tiny: { cpu: '100m', memory: '128Mi', maxApps: 1 },
      }),
    });
    expect(s.desired.namespacePrefix).toBe('pv-');
    expect(s.concurrency).toBe(16);
    expect(s.leaderElection).toEqual({
      namespace: 'ops',
      name: 'lease',
      identity: 'operator-0',
    });
    expect(s.metricsPort).toBe(9000);
    expect(s.desired.gatewayNamespaces).toEqual(['contour', 'envoy']);
    expect(s.desired.gatewayCidrs).toEqual(['10.244.0.1/32', 'fd00::1/128']);
    expect(s.desired.gatewayPorts).toEqual([80, 8443]);
    expect(s.desired.ownerGroupPrefix).toBe('oidc:');
    expect(s.desired.plans.find(p => p.name === 'tiny')).toMatchObject({
      maxApps: 1,
    });
    expect(
      settingsFromEnv({ PAVED_LEADER_ELECTION: 'false' }).leaderElection,
    ).toBeUndefined();
  });

  it('reads the lease timings as durations', () => {
    expect(
      settingsFromEnv({
        PAVED_LEASE_DURATION: '1m',
        PAVED_LEASE_RENEW_DEADLINE: '20s',
        PAVED_LEASE_RETRY_PERIOD: '500ms',
      }).leaderElection,
    ).toMatchObject({
      leaseDurationMs: 60_000,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 500,
    });
    // Unset: the elector's defaults.
    expect(settingsFromEnv({}).leaderElection?.leaseDurationMs).toBeUndefined();
    expect(() => settingsFromEnv({ PAVED_LEASE_DURATION: '15' })).toThrow(
      'PAVED_LEASE_DURATION must be a duration such as 200ms, 15s or 1m, not "15"',
    );
    // 5 s is below the default renew deadline of 10 s.
    expect(() => settingsFromEnv({ PAVED_LEASE_DURATION: '5s' })).toThrow(
      /PAVED_LEASE_DURATION \(5000 ms\) > PAVED_LEASE_RENEW_DEADLINE \(10000 ms\)/,
    );
  });
});

describe('settingsFromArgs', () => {
  it('takes --<setting>=<value> flags over the environment', () => {
    const s = settingsFromArgs(
      ['--concurrency=3', '--log-level=debug', '--gateway-ports=80,443'],
      { PAVED_CONCURRENCY: '16', PAVED_NAMESPACE_PREFIX: 'pv-' },
    );
    expect(s.concurrency).toBe(3);
    expect(s.logLevel).toBe('debug');
    expect(s.desired.gatewayPorts).toEqual([80, 443]);
    expect(s.desired.namespacePrefix).toBe('pv-');
    expect(envFromArgs(['--plans={"a":1}'])).toEqual({
      PAVED_PLANS: '{"a":1}',
    });
  });

  it('refuses what is not a setting', () => {
    expect(() => envFromArgs(['--concurency=3'])).toThrow(
      /^unknown argument "--concurency=3"; flags are --<setting>=<value>, one of --namespace-prefix, --concurrency,/,
    );
    expect(() => envFromArgs(['--concurrency'])).toThrow(/unknown argument/);
    expect(() => envFromArgs(['serve'])).toThrow(/unknown argument "serve"/);
  });

  it('names the variable to fix', () => {
    expect(() => settingsFromEnv({ PAVED_CONCURRENCY: 'many' })).toThrow(
      'PAVED_CONCURRENCY must be a whole number from 1 to 256, not "many"',
    );
    expect(() =>
      settingsFromEnv({ PAVED_NAMESPACE_PREFIX: 'Tenant_' }),
    ).toThrow(/^PAVED_NAMESPACE_PREFIX must be lowercase/);
    expect(() =>
      settingsFromEnv({ PAVED_PLANS: '{"x":{"cpu":"lots"}}' }),
    ).toThrow(/^PAVED_PLANS: /);
    expect(() => settingsFromEnv({ PAVED_LOG_LEVEL: 'loud' })).toThrow(
      /PAVED_LOG_LEVEL/,
    );
    expect(() =>
      settingsFromEnv({ PAVED_GATEWAY_CIDRS: '10.0.0.1/32,10.0.0.1,::1/129' }),
    ).toThrow(
      'PAVED_GATEWAY_CIDRS must be a comma-separated list of CIDRs such as 10.0.0.1/32, not "10.0.0.1,::1/129"',
    );
    expect(() => settingsFromEnv({ PAVED_GATEWAY_PORTS: '80,0,http' })).toThrow(
      'PAVED_GATEWAY_PORTS must be a comma-separated list of ports from 1 to 65535, not "0,http"',
    );
  });
});
