import {
  pavedLabels,
  TenantResource,
  tenantNamespace,
} from '@paved/plugin-paved-common';
import { KubeObject } from '@paved/kube';
import { DesiredStateConfig } from './config';
import { CAPSULE_TENANT_LABEL } from './names';

export function namespaceName(
  tenant: string,
  config: DesiredStateConfig,
): string {
  return tenantNamespace(tenant, config.namespacePrefix);
}

/** The tenant's namespace. With Capsule, labelled as the Capsule tenant's. */
export function desiredNamespace(
  tenant: TenantResource,
  config: DesiredStateConfig,
  options: { capsule: boolean },
): KubeObject {
  const labels: Record<string, string> = {
    ...pavedLabels(tenant.metadata.name),
    // Knative's queue-proxy and most images run under `baseline`.
    'pod-security.kubernetes.io/enforce': 'baseline',
  };
  if (options.capsule) labels[CAPSULE_TENANT_LABEL] = tenant.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespaceName(tenant.metadata.name, config), labels },
  };
}
