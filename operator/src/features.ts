/** Which optional APIs the cluster serves, from API discovery. */
import { KubeClient } from '@paved/kube';
import { ClusterFeatures } from './reconcilers/context';

export async function detectFeatures(
  client: KubeClient,
): Promise<ClusterFeatures> {
  const serves = async (groupVersion: string, plural: string) =>
    Boolean(
      (await client.discover(groupVersion))?.resources.some(
        r => r.name === plural,
      ),
    );
  const [capsule, cilium, knative] = await Promise.all([
    serves('capsule.clastix.io/v1beta2', 'tenants'),
    serves('cilium.io/v2', 'ciliumnetworkpolicies'),
    serves('serving.knative.dev/v1', 'services'),
  ]);
  return { capsule, cilium, knative };
}
