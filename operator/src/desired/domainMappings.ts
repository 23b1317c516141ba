/**
 * One Knative DomainMapping per custom domain of an App, named by the domain
 * (with `spec.tls.secretName` where the App's `spec.tls` lists the domain's
 * TLS Secret), and the ClusterDomainClaim that gives the domain to the App's
 * namespace.
 */
import { AppResource, AppSpec, pavedLabels } from '@paved/plugin-paved-common';
import { KubeObject } from '@paved/kube';
import { appOwnerReference } from './knativeService';

export function desiredDomainMappings(
  tenant: string,
  app: AppResource,
  spec: AppSpec,
): KubeObject[] {
  const tls = new Map((spec.tls ?? []).map(t => [t.domain, t.secretName]));
  return [...spec.domains].sort().map(domain => ({
    apiVersion: 'serving.knative.dev/v1beta1',
    kind: 'DomainMapping',
    metadata: {
      name: domain,
      namespace: app.metadata.namespace,
      labels: pavedLabels(tenant, app.metadata.name),
      ownerReferences: appOwnerReference(app),
    },
    spec: {
      ref: {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        name: app.metadata.name,
        namespace: app.metadata.namespace,
      },
      // The certificate the owner brought, in a Secret only the platform
      // writes; Knative puts it on the ingress for this host.
      ...(tls.has(domain) ? { tls: { secretName: tls.get(domain) } } : {}),
    },
  }));
}

/** The claim that reserves `domain` for the tenant's namespace. */
export function desiredDomainClaim(
  tenant: string,
  app: AppResource,
  domain: string,
): KubeObject {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'ClusterDomainClaim',
    metadata: { name: domain, labels: pavedLabels(tenant, app.metadata.name) },
    spec: { namespace: app.metadata.namespace },
  };
}
