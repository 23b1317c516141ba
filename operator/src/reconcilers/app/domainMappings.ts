/**
 * One DomainMapping per custom domain, each with the ClusterDomainClaim that
 * gives the domain to the tenant's namespace; mappings and claims for removed
 * domains go. A domain another namespace has claimed is not taken over.
 */
import {
  AppDomainStatus,
  AppResource,
  AppSpec,
  LABEL_APP,
} from '@paved/plugin-paved-common';
import {
  isConflict,
  isNotFound,
  CLUSTER_DOMAIN_CLAIMS,
  DOMAIN_MAPPINGS,
  KubeObject,
} from '@paved/kube';
import { condition, ConditionInput } from '../../desired/conditions';
import {
  desiredDomainClaim,
  desiredDomainMappings,
} from '../../desired/domainMappings';
import { applyChild } from '../apply';
import { AppChild } from '../children';
import { ReconcileContext } from '../context';
import { Removal, deleteCached } from '../remove';

/** One DomainMapping per custom domain (and its claim); condition DomainsReady. */
export const domainMappingsChild: AppChild = {
  name: 'domainMappings',
  types: [{ type: DOMAIN_MAPPINGS }],
  requires: 'knative',
  desired: (_ctx, { tenant, app, spec }) =>
    desiredDomainMappings(tenant, app, spec),
  reconcile: async (ctx, { tenant, app, spec }) => {
    const taken: string[] = [];
    const domainsReady = await reconcileDomainMappings(
      ctx,
      tenant,
      app,
      spec,
      taken,
    );
    return {
      condition: domainsReady,
      domains: spec.domains.length
        ? domainStatuses(ctx, app, spec, taken)
        : undefined,
    };
  },
  remove: (ctx, app) => deleteDomainMappings(ctx, app),
};

function ownedMappings(ctx: ReconcileContext, app: AppResource): KubeObject[] {
  return ctx.informers
    .list(DOMAIN_MAPPINGS, app.metadata.namespace)
    .filter(m => m.metadata.labels?.[LABEL_APP] === app.metadata.name);
}

async function reconcileDomainMappings(
  ctx: ReconcileContext,
  tenant: string,
  app: AppResource,
  spec: AppSpec,
  taken: string[],
): Promise<ConditionInput> {
  const desired: KubeObject[] = [];
  for (const mapping of desiredDomainMappings(tenant, app, spec)) {
    if (await claimDomain(ctx, tenant, app, mapping.metadata.name)) {
      desired.push(mapping);
    } else {
      taken.push(mapping.metadata.name);
    }
  }
  const wanted = new Set(desired.map(m => m.metadata.name));
  for (const mapping of desired) {
    await applyChild(
      ctx.client,
      DOMAIN_MAPPINGS,
      mapping,
      ctx.informers.cached(
        DOMAIN_MAPPINGS,
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
      await releaseDomain(ctx, app, mapping.metadata.name);
    }
  }
  if (taken.length) {
    const one = taken.length === 1;
    return condition(
      app,
      'DomainsReady',
      'False',
      'DomainTaken',
      `${taken.join(', ')} ${
        one ? 'is' : 'are'
      } already used by another tenant; remove ${
        one ? 'it' : 'them'
      } from this app, or ask the platform team to release ${
        one ? 'it' : 'them'
      }`,
    );
  }
  const notReady = desired
    .map(m =>
      ctx.informers.cached(
        DOMAIN_MAPPINGS,
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
    return condition(
      app,
      'DomainsReady',
      'False',
      'DomainMappingFailed',
      notReady.map(c => c!.message).join('; '),
    );
  }
  return desired.length
    ? condition(
        app,
        'DomainsReady',
        'True',
        'Mapped',
        `Mapped ${desired.map(m => m.metadata.name).join(', ')}`,
      )
    : condition(
        app,
        'DomainsReady',
        'True',
        'NoDomains',
        'The app has no custom domains',
      );
}

type MappingStatus = {
  url?: string;
  conditions?: Array<{ type: string; status: string; message?: string }>;
};

/**
 * Each domain as it is served, from the cached mappings: Mapped (Ready),
 * Failed (Ready False, Knative's words), Pending, or Taken (the claim is
 * another namespace's); `tls` when the mapping carries the TLS Secret.
 */
function domainStatuses(
  ctx: ReconcileContext,
  app: AppResource,
  spec: AppSpec,
  taken: string[],
): AppDomainStatus[] {
  return spec.domains.map(domain => {
    if (taken.includes(domain)) {
      return {
        domain,
        state: 'Taken' as const,
        tls: false,
        message: `${domain} is claimed by another namespace in the cluster; ask the platform team to release it`,
      };
    }
    const live = ctx.informers.cached(
      DOMAIN_MAPPINGS,
      domain,
      app.metadata.namespace,
    );
    const status = live?.status as MappingStatus | undefined;
    const ready = status?.conditions?.find(c => c.type === 'Ready');
    const wantsTls = (spec.tls ?? []).some(t => t.domain === domain);
    const hasTls = Boolean(
      (live?.spec as { tls?: { secretName?: string } } | undefined)?.tls
        ?.secretName,
    );
    let state: AppDomainStatus['state'] = 'Pending';
    if (ready?.status === 'True') state = 'Mapped';
    else if (ready?.status === 'False') state = 'Failed';
    return {
      domain,
      state,
      tls: hasTls && wantsTls,
      ...(status?.url ? { url: status.url } : {}),
      ...(ready?.message && state !== 'Mapped'
        ? { message: ready.message }
        : {}),
    };
  });
}

/**
 * Deletes every mapping of the app (from the cache and the spec); true once
 * they are gone. Knative keeps a mapping (its finalizer) until it has taken
 * the route down, so "deleted" comes a moment after the DELETE: a mapping
 * already going is not asked again. Each domain's claim is released once
 * its mapping is gone.
 */
async function deleteDomainMappings(
  ctx: ReconcileContext,
  app: AppResource,
): Promise<boolean> {
  const namespace = app.metadata.namespace;
  const owned = new Set(ownedMappings(ctx, app).map(m => m.metadata.name));
  const names = new Set([
    ...owned,
    ...((app.spec?.domains as string[] | undefined) ?? []),
  ]);
  let gone = true;
  for (const name of names) {
    let removal: Removal;
    if (owned.has(name)) {
      removal = await deleteCached(ctx, DOMAIN_MAPPINGS, name, namespace);
    } else {
      // The cache may not have caught up with a mapping applied a moment ago.
      const live = await ctx.client.tryGet(DOMAIN_MAPPINGS, name, namespace);
      // Another app's mapping (the domain moved to it): not ours to touch.
      if (live && live.metadata.labels?.[LABEL_APP] !== app.metadata.name) {
        continue;
      }
      if (!live) removal = 'gone';
      else if (live.metadata.deletionTimestamp) removal = 'going';
      else {
        const sent = await ctx.client.delete(DOMAIN_MAPPINGS, name, namespace);
        removal = sent ? 'going' : 'gone';
      }
    }
    if (removal === 'going') {
      gone = false;
      continue;
    }
    await releaseDomain(ctx, app, name);
  }
  return gone;
}

/**
 * Claims `domain` for the app's namespace; false when another namespace holds
 * it. A cluster without Knative's claim API (older Knative, or one that
 * auto-creates claims) needs none: true.
 */
async function claimDomain(
  ctx: ReconcileContext,
  tenant: string,
  app: AppResource,
  domain: string,
): Promise<boolean> {
  const claim = await ctx.client.tryGet(CLUSTER_DOMAIN_CLAIMS, domain);
  const holder = (claim?.spec as { namespace?: string } | undefined)?.namespace;
  if (holder === app.metadata.namespace) return true;
  if (claim) return false;
  try {
    await ctx.client.create(
      CLUSTER_DOMAIN_CLAIMS,
      desiredDomainClaim(tenant, app, domain),
    );
    return true;
  } catch (error) {
    if (isNotFound(error)) return true;
    // Taken a moment ago (409): look again, and let the next pass decide.
    if (isConflict(error)) return false;
    throw error;
  }
}

/** Deletes the claim on `domain` if this app's namespace holds it. */
async function releaseDomain(
  ctx: ReconcileContext,
  app: AppResource,
  domain: string,
): Promise<void> {
  const claim = await ctx.client
    .tryGet(CLUSTER_DOMAIN_CLAIMS, domain)
    .catch(() => undefined);
  const holder = (claim?.spec as { namespace?: string } | undefined)?.namespace;
  if (claim && holder === app.metadata.namespace) {
    await ctx.client.delete(CLUSTER_DOMAIN_CLAIMS, domain);
  }
}
