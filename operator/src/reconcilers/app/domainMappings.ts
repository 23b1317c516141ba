/** One DomainMapping per custom domain; mappings for removed domains go. */
import { AppResource, AppSpec, LABEL_APP } from '@paved/plugin-paved-common';
import { DOMAIN_MAPPINGS, KubeObject } from '../../kube/types';
import { ConditionInput } from '../../desired/conditions';
import { desiredDomainMappings } from '../../desired/domainMappings';
import { applyChild } from '../apply';
import { cached, ReconcileContext } from '../context';

function ownedMappings(ctx: ReconcileContext, app: AppResource): KubeObject[] {
  return (
    ctx.informers.domainMappings?.list(app.metadata.namespace) ?? []
  ).filter(m => m.metadata.labels?.[LABEL_APP] === app.metadata.name);
}

export async function reconcileDomainMappings(
  ctx: ReconcileContext,
  tenant: string,
  app: AppResource,
  spec: AppSpec,
): Promise<ConditionInput> {
  const desired = desiredDomainMappings(tenant, app, spec);
  const wanted = new Set(desired.map(m => m.metadata.name));
  for (const mapping of desired) {
    await applyChild(
      ctx.client,
      DOMAIN_MAPPINGS,
      mapping,
      cached(
        ctx.informers.domainMappings,
        mapping.metadata.name,
        app.metadata.namespace,
      ),
    );
  }
  for (const mapping of ownedMappings(ctx, app)) {
    if (!wanted.has(mapping.metadata.name)) {
      await ctx.client.delete(
        DOMAIN_MAPPINGS,
        mapping.metadata.name,
        app.metadata.namespace,
      );
    }
  }
  const notReady = desired
    .map(m =>
      cached(
        ctx.informers.domainMappings,
        m.metadata.name,
        app.metadata.namespace,
      ),
    )
    .map(m =>
      (
        m?.status as
          | {
              conditions?: Array<{
                type: string;
                status: string;
                message?: string;
              }>;
            }
          | undefined
      )?.conditions?.find(c => c.type === 'Ready'),
    )
    .filter(c => c && c.status === 'False');
  if (notReady.length) {
    return {
      type: 'DomainsReady',
      status: 'False',
      reason: 'DomainMappingFailed',
      message: notReady.map(c => c!.message).join('; '),
      observedGeneration: app.metadata.generation,
    };
  }
  return {
    type: 'DomainsReady',
    status: 'True',
    reason: desired.length ? 'Mapped' : 'NoDomains',
    message: desired.length
      ? `Mapped ${desired.map(m => m.metadata.name).join(', ')}`
      : 'The app has no custom domains',
    observedGeneration: app.metadata.generation,
  };
}

/** Deletes every mapping of the app (from the cache and the spec). */
export async function deleteDomainMappings(
  ctx: ReconcileContext,
  app: AppResource,
): Promise<void> {
  const names = new Set(ownedMappings(ctx, app).map(m => m.metadata.name));
  // The cache may not have caught up with a mapping applied a moment ago.
  for (const domain of (app.spec?.domains as string[] | undefined) ?? []) {
    const live = await ctx.client.tryGet(
      DOMAIN_MAPPINGS,
      domain,
      app.metadata.namespace,
    );
    if (live?.metadata.labels?.[LABEL_APP] === app.metadata.name)
      names.add(domain);
  }
  for (const name of names) {
    await ctx.client.delete(DOMAIN_MAPPINGS, name, app.metadata.namespace);
  }
}
