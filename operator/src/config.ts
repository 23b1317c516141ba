/**
 * The operator's settings from environment variables; a bad value stops the
 * operator at start with a message that names the variable.
 */
import { isIP } from 'node:net';
import { resolvePlans } from '@paved/plugin-paved-common';
import {
  DEFAULT_DESIRED_STATE_CONFIG,
  DesiredStateConfig,
} from './desired/config';
import { LogLevel } from '@paved/kube';
import type { OperatorOptions } from './options';

export interface OperatorSettings {
  desired: DesiredStateConfig;
  concurrency: number;
  /** Lease timings unset: the elector's defaults (15 s, 10 s, 2 s, as client-go's). */
  leaderElection?: OperatorOptions['leaderElection'];
  metricsPort: number;
  metricsHost: string;
  logLevel: LogLevel;
}

function list(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
}

/** An IPv4 or IPv6 CIDR, e.g. 10.0.0.1/32 or fd00::1/128. */
function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length || !/^\d{1,3}$/.test(bits ?? '')) return false;
  const kind = isIP(address);
  return kind !== 0 && Number(bits) <= (kind === 4 ? 32 : 128);
}

function cidrs(env: NodeJS.ProcessEnv, name: string): string[] {
  const values = list(env[name], []);
  const bad = values.filter(v => !isCidr(v));
  if (bad.length) {
    throw new Error(
      `${name} must be a comma-separated list of CIDRs such as 10.0.0.1/32, not "${bad.join(
        ',',
      )}"`,
    );
  }
  return values;
}

function ports(env: NodeJS.ProcessEnv, name: string): number[] {
  const values = list(env[name], []);
  const bad = values.filter(
    v => !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535,
  );
  if (bad.length) {
    throw new Error(
      `${name} must be a comma-separated list of ports from 1 to 65535, not "${bad.join(
        ',',
      )}"`,
    );
  }
  return values.map(Number);
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${name} must be a whole number from ${min} to ${max}, not "${raw}"`,
    );
  }
  return value;
}

/** A duration such as `200ms`, `15s` or `1m`, in milliseconds; unset: undefined. */
function duration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const match = /^([1-9]\d*)(ms|s|m)$/.exec(raw);
  if (!match) {
    throw new Error(
      `${name} must be a duration such as 200ms, 15s or 1m, not "${raw}"`,
    );
  }
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2]]!;
}

function leaseTimings(env: NodeJS.ProcessEnv) {
  const timings = {
    leaseDurationMs: duration(env, 'PAVED_LEASE_DURATION'),
    renewDeadlineMs: duration(env, 'PAVED_LEASE_RENEW_DEADLINE'),
    retryPeriodMs: duration(env, 'PAVED_LEASE_RETRY_PERIOD'),
  };
  const lease = timings.leaseDurationMs ?? 15_000;
  const renew = timings.renewDeadlineMs ?? 10_000;
  const retry = timings.retryPeriodMs ?? 2_000;
  if (!(lease > renew && renew > retry)) {
    throw new Error(
      `PAVED_LEASE_DURATION (${lease} ms) > PAVED_LEASE_RENEW_DEADLINE (${renew} ms) > PAVED_LEASE_RETRY_PERIOD (${retry} ms) must hold`,
    );
  }
  return timings;
}

/** The variables `settingsFromEnv` reads; each is also a flag (`settingsFromArgs`). */
export const SETTINGS_VARIABLES = [
  'PAVED_NAMESPACE_PREFIX',
  'PAVED_CONCURRENCY',
  'PAVED_LEADER_ELECTION',
  'PAVED_LEASE_NAMESPACE',
  'PAVED_LEASE_NAME',
  'PAVED_LEASE_DURATION',
  'PAVED_LEASE_RENEW_DEADLINE',
  'PAVED_LEASE_RETRY_PERIOD',
  'PAVED_METRICS_PORT',
  'PAVED_METRICS_HOST',
  'PAVED_KNATIVE_NAMESPACE',
  'PAVED_GATEWAY_NAMESPACES',
  'PAVED_GATEWAY_CIDRS',
  'PAVED_GATEWAY_PORTS',
  'PAVED_PLATFORM_NAMESPACES',
  'PAVED_OWNER_CLUSTER_ROLE',
  'PAVED_OWNER_GROUP_PREFIX',
  'PAVED_PLANS',
  'PAVED_LOG_LEVEL',
] as const;

/**
 * Command-line flags as the variables they stand for: `--log-level=debug`
 * is `PAVED_LOG_LEVEL=debug` (the chart's `extraArgs`). Flags win over the
 * environment. An unknown or malformed flag throws, naming the known ones.
 */
export function envFromArgs(args: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const arg of args) {
    const match = /^--([a-z][-a-z]*)=(.*)$/s.exec(arg);
    const name = match && `PAVED_${match[1].replace(/-/g, '_').toUpperCase()}`;
    if (!match || !(SETTINGS_VARIABLES as readonly string[]).includes(name!)) {
      throw new Error(
        `unknown argument "${arg}"; flags are --<setting>=<value>, one of ${SETTINGS_VARIABLES.map(
          v => `--${v.slice('PAVED_'.length).toLowerCase().replace(/_/g, '-')}`,
        ).join(', ')}`,
      );
    }
    env[name!] = match[2];
  }
  return env;
}

/** What `Operator.create` takes from the settings (main.ts; tests run the chart's). */
export function operatorOptions(settings: OperatorSettings) {
  return {
    config: settings.desired,
    concurrency: settings.concurrency,
    leaderElection: settings.leaderElection,
    metricsPort: settings.metricsPort,
    metricsHost: settings.metricsHost,
  };
}

/** The environment, overridden by `args` (see `envFromArgs`). */
export function settingsFromArgs(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): OperatorSettings {
  return settingsFromEnv({ ...env, ...envFromArgs(args) });
}

/**
 * | variable | default |
 * | --- | --- |
 * | PAVED_NAMESPACE_PREFIX | tenant- |
 * | PAVED_CONCURRENCY | 8 |
 * | PAVED_LEADER_ELECTION | true |
 * | PAVED_LEASE_NAMESPACE / PAVED_LEASE_NAME | paved-system / paved-operator |
 * | PAVED_LEASE_DURATION / _RENEW_DEADLINE / _RETRY_PERIOD | 15s / 10s / 2s |
 * | POD_NAME | hostname-pid (leader identity) |
 * | PAVED_METRICS_PORT / PAVED_METRICS_HOST | 8080 / 0.0.0.0 |
 * | PAVED_KNATIVE_NAMESPACE | knative-serving |
 * | PAVED_GATEWAY_NAMESPACES | kourier-system,istio-system |
 * | PAVED_GATEWAY_CIDRS / PAVED_GATEWAY_PORTS | (none) / (all) |
 * | PAVED_PLATFORM_NAMESPACES | paved-system |
 * | PAVED_OWNER_CLUSTER_ROLE | paved-tenant-owner |
 * | PAVED_OWNER_GROUP_PREFIX | (empty) |
 * | PAVED_PLANS | JSON like app-config's paved.plans |
 * | PAVED_LOG_LEVEL | info |
 */
export function settingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): OperatorSettings {
  const prefix =
    env.PAVED_NAMESPACE_PREFIX ?? DEFAULT_DESIRED_STATE_CONFIG.namespacePrefix;
  if (!/^[a-z]([-a-z0-9]{0,5}[-a-z0-9])?$/.test(prefix)) {
    throw new Error(
      `PAVED_NAMESPACE_PREFIX must be lowercase letters, digits and "-", at most 7 characters, starting with a letter, not "${prefix}"`,
    );
  }
  let plans;
  try {
    plans = resolvePlans(
      env.PAVED_PLANS ? JSON.parse(env.PAVED_PLANS) : undefined,
    );
  } catch (error) {
    throw new Error(`PAVED_PLANS: ${(error as Error).message}`);
  }
  const logLevel = (env.PAVED_LOG_LEVEL ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new Error(
      `PAVED_LOG_LEVEL must be debug, info, warn or error, not "${logLevel}"`,
    );
  }
  const leaderElection = (env.PAVED_LEADER_ELECTION ?? 'true') !== 'false';
  return {
    desired: {
      ...DEFAULT_DESIRED_STATE_CONFIG,
      namespacePrefix: prefix,
      plans,
      knativeNamespace:
        env.PAVED_KNATIVE_NAMESPACE ??
        DEFAULT_DESIRED_STATE_CONFIG.knativeNamespace,
      gatewayNamespaces: list(
        env.PAVED_GATEWAY_NAMESPACES,
        DEFAULT_DESIRED_STATE_CONFIG.gatewayNamespaces,
      ),
      gatewayCidrs: cidrs(env, 'PAVED_GATEWAY_CIDRS'),
      gatewayPorts: ports(env, 'PAVED_GATEWAY_PORTS'),
      platformNamespaces: list(
        env.PAVED_PLATFORM_NAMESPACES,
        DEFAULT_DESIRED_STATE_CONFIG.platformNamespaces,
      ),
      ownerClusterRole:
        env.PAVED_OWNER_CLUSTER_ROLE ??
        DEFAULT_DESIRED_STATE_CONFIG.ownerClusterRole,
      ownerGroupPrefix:
        env.PAVED_OWNER_GROUP_PREFIX ??
        DEFAULT_DESIRED_STATE_CONFIG.ownerGroupPrefix,
    },
    concurrency: integer(env, 'PAVED_CONCURRENCY', 8, 1, 256),
    leaderElection: leaderElection
      ? {
          namespace: env.PAVED_LEASE_NAMESPACE ?? 'paved-system',
          name: env.PAVED_LEASE_NAME ?? 'paved-operator',
          identity: env.POD_NAME || undefined,
          ...leaseTimings(env),
        }
      : undefined,
    metricsPort: integer(env, 'PAVED_METRICS_PORT', 8080, 0, 65535),
    metricsHost: env.PAVED_METRICS_HOST ?? '0.0.0.0',
    logLevel,
  };
}
