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

export interface OperatorSettings {
  desired: DesiredStateConfig;
  concurrency: number;
  leaderElection?: { namespace: string; name: string; identity?: string };
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

/**
 * | variable | default |
 * | --- | --- |
 * | PAVED_NAMESPACE_PREFIX | tenant- |
 * | PAVED_CONCURRENCY | 8 |
 * | PAVED_LEADER_ELECTION | true |
 * | PAVED_LEASE_NAMESPACE / PAVED_LEASE_NAME | paved-system / paved-operator |
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
        }
      : undefined,
    metricsPort: integer(env, 'PAVED_METRICS_PORT', 8080, 0, 65535),
    metricsHost: env.PAVED_METRICS_HOST ?? '0.0.0.0',
    logLevel,
  };
}
