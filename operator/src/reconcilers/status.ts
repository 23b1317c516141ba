/** Writing status through the status subresource, only when it changed. */
import { KubeClient } from '@paved/kube';
import { KubeObject, ResourceType } from '@paved/kube';

function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, inner]) => inner !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

export async function writeStatus(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
  status: Record<string, unknown>,
): Promise<void> {
  if (stable(object.status ?? {}) === stable(status)) return;
  await client.apply(
    type,
    {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: {
        name: object.metadata.name,
        namespace: object.metadata.namespace,
      },
      status,
    },
    { subresource: 'status' },
  );
}
