/**
 * What reconcilers share: the API client, the configuration, which optional
 * APIs the cluster serves, and the informer caches they read from.
 */
import {
  ClusterFeatures,
  KubeClient,
  KubeObject,
  ResourceType,
  crdName,
  Informer,
  Logger,
} from '@paved/kube';
import { DesiredStateConfig } from '../desired/config';
import type { StatusMemo } from './status';

/** Optional APIs, detected from the CRDs the cluster serves (`@paved/kube`'s table). */
export type { ClusterFeatures } from '@paved/kube';

/**
 * The session's informers, one per watched resource type. A type of an
 * optional API that is not installed has none: `get` answers undefined and
 * the cache reads answer "nothing there".
 */
export class InformerSet {
  private readonly byType = new Map<string, Informer>();

  add(informer: Informer): void {
    this.byType.set(crdName(informer.type), informer);
  }

  /** The type's informer, if it is watched in this session. */
  get(type: ResourceType): Informer | undefined {
    return this.byType.get(crdName(type));
  }

  /** The type's informer; throws when it is not watched (a wiring error). */
  of(type: ResourceType): Informer {
    const informer = this.get(type);
    if (!informer) {
      throw new Error(`no informer for ${crdName(type)} in this session`);
    }
    return informer;
  }

  /** The cached object, if the type is watched and the object is there. */
  cached(
    type: ResourceType,
    name: string,
    namespace?: string,
  ): KubeObject | undefined {
    return this.get(type)?.get(cacheKey(name, namespace));
  }

  /** The cached objects of a type (in a namespace); none if not watched. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.get(type)?.list(namespace) ?? [];
  }

  all(): Informer[] {
    return [...this.byType.values()];
  }
}

export interface ReconcileContext {
  client: KubeClient;
  config: DesiredStateConfig;
  features: ClusterFeatures;
  logger: Logger;
  /** How long to wait before looking again at something still in progress. */
  pollMs: number;
  informers: InformerSet;
  /** What this session last wrote to each owner's status. */
  statuses: StatusMemo;
}

export function cacheKey(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function cached(
  informer: Informer | undefined,
  name: string,
  namespace?: string,
): KubeObject | undefined {
  return informer?.get(cacheKey(name, namespace));
}
