/**
 * Starts an Operator and the Knative status simulator against a test
 * cluster, and offers the writes the backend would make (as `paved-backend`).
 */
import {
  AppSpecInput,
  FIELD_MANAGER_BACKEND,
  TenantSpecInput,
} from '@paved/plugin-paved-common';
import { KubeClient } from '../kube/client';
import { APPS, KubeObject, TENANTS } from '../kube/types';
import { Operator, OperatorOptions } from '../operator';
import { TestCluster } from '@paved/test-cluster';
import { KnativeSimulator, KnativeSimulatorOptions } from './knativeSimulator';

export async function startOperator(
  cluster: TestCluster,
  options: Partial<OperatorOptions> = {},
): Promise<Operator> {
  const operator = await Operator.create({
    kubeConfig: cluster.kubeConfig,
    concurrency: 4,
    pollMs: 200,
    ...options,
  });
  await operator.start();
  return operator;
}

export async function startSimulator(
  client: KubeClient,
  options: KnativeSimulatorOptions = {},
): Promise<KnativeSimulator> {
  const simulator = new KnativeSimulator(client, options);
  await simulator.start();
  return simulator;
}

export function applyTenant(
  client: KubeClient,
  name: string,
  spec: Partial<TenantSpecInput> = {},
): Promise<KubeObject> {
  return client.apply(
    TENANTS,
    {
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'Tenant',
      metadata: { name },
      spec: {
        displayName: `Tenant ${name}`,
        owner: 'group:default/team-a',
        plan: 'free',
        ...spec,
      },
    },
    { fieldManager: FIELD_MANAGER_BACKEND },
  );
}

export function applyApp(
  client: KubeClient,
  tenant: string,
  name: string,
  spec: Partial<AppSpecInput> = {},
): Promise<KubeObject> {
  return client.apply(
    APPS,
    {
      apiVersion: 'paved.dev/v1alpha1',
      kind: 'App',
      metadata: { name, namespace: `tenant-${tenant}` },
      spec: { image: 'ghcr.io/acme/web:1.0.0', port: 8080, ...spec },
    },
    { fieldManager: FIELD_MANAGER_BACKEND },
  );
}

export function statusOf(object: KubeObject | undefined): any {
  return object?.status ?? {};
}
