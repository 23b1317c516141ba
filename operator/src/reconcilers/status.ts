/**
 * Writing an owner's (Tenant's or App's) status through the status
 * subresource: its fields, its conditions (transition times kept while a
 * status holds) and observedGeneration, written only when something changed.
 * Both reconcilers write through `writeOwnerStatus`.
 */
import { Condition } from '@paved/plugin-paved-common';
import { KubeClient, KubeObject, ResourceType } from '@paved/kube';
import { ConditionInput, setConditions } from '../desired/conditions';

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

/**
 * The owner's status: `fields` (undefined ones left out), `conditions` set
 * onto the ones it has, and `observedGeneration` = its generation.
 */
export async function writeOwnerStatus(
  client: KubeClient,
  type: ResourceType,
  owner: {
    metadata: KubeObject['metadata'];
    status?: { conditions?: unknown };
  },
  fields: Record<string, unknown>,
  conditions: ConditionInput[],
): Promise<void> {
  const status = {
    ...Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined),
    ),
    conditions: setConditions(
      owner.status?.conditions as Condition[] | undefined,
      conditions,
    ),
    observedGeneration: owner.metadata.generation,
  };
  await writeStatus(client, type, owner as unknown as KubeObject, status);
}
