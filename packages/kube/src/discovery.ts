/**
 * Feature detection: which optional APIs of `OPTIONAL_APIS` the cluster
 * serves, from API discovery. One discovery request per group/version.
 */
import { KubeClient } from './client';
import {
  apiVersionOf,
  ClusterFeatures,
  OPTIONAL_APIS,
  OptionalApi,
  ResourceType,
} from './resources';

/** True for each type the cluster serves (its plural is in discovery). */
export async function servedTypes(
  client: KubeClient,
  types: readonly ResourceType[],
): Promise<boolean[]> {
  const groupVersions = [...new Set(types.map(apiVersionOf))];
  const served = new Map<string, Set<string>>(
    await Promise.all(
      groupVersions.map(
        async gv =>
          [
            gv,
            new Set(
              ((await client.discover(gv))?.resources ?? []).map(r => r.name),
            ),
          ] as const,
      ),
    ),
  );
  return types.map(t => served.get(apiVersionOf(t))!.has(t.plural));
}

/**
 * Which optional APIs the cluster serves: a feature is on when every type of
 * its `OPTIONAL_APIS` entry is served.
 */
export async function detectFeatures(
  client: KubeClient,
  apis: readonly OptionalApi[] = OPTIONAL_APIS,
): Promise<ClusterFeatures> {
  const types = apis.flatMap(api => api.types);
  const served = await servedTypes(client, types);
  const byType = new Map(types.map((t, i) => [t, served[i]]));
  return Object.fromEntries(
    apis.map(api => [api.feature, api.types.every(t => byType.get(t))]),
  ) as ClusterFeatures;
}
