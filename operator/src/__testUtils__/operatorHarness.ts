/**
 * Starts an Operator against a test cluster, and offers the writes the
 * backend would make (as `paved-backend`).
 */
import {
  AppSpecInput,
  FIELD_MANAGER_BACKEND,
  TenantSpecInput,
} from '@paved/plugin-paved-common';
import { KubeClient, APPS, KubeObject, TENANTS } from '@paved/kube';
import { Operator, OperatorOptions } from '../operator';
import { EXAMPLE_APP_IMAGE, TestCluster } from '@paved/test-cluster';

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
      spec: {
        image: EXAMPLE_APP_IMAGE,
        port: 8080,
        // Small instances: a test's apps share one 2-core node.
        resources: { cpu: '50m', memory: '64Mi' },
        ...spec,
      },
    },
    { fieldManager: FIELD_MANAGER_BACKEND },
  );
}

export function statusOf(object: KubeObject | undefined): any {
  return object?.status ?? {};
}
