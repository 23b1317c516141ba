import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';

/**
 * TEST STAND-IN for Knative Serving's controller.
 *
 * Knative's real controller cannot run here: no kubelet runs, so no revision
 * ever gets a pod. This simulator watches `services.serving.knative.dev` and
 * `domainmappings.serving.knative.dev` in all namespaces and writes the
 * status Knative would write once a revision is up, using Knative's own
 * condition types, reasons and message formats (from knative.dev/serving's
 * `pkg/apis/serving/v1/*_lifecycle.go`):
 *
 * - every change of `spec.template` creates a Revision `<name>-0000N` (N
 *   counts template changes, as Knative's Configuration generation does);
 *   anything else (metadata, traffic) creates none;
 * - a Revision is Ready unless a failure was requested with {@link
 *   KnativeStatusSimulator.fail} or the `failImage` option; then it fails
 *   with the reason and message given (see {@link KnativeFailures}) and the
 *   Service reports `RevisionFailed` / `RevisionMissing` as Knative does;
 * - the Service gets `observedGeneration`, `url`, `address`,
 *   `latestCreatedRevisionName`, `latestReadyRevisionName`, `traffic` (100 %
 *   to the latest ready revision) and the conditions `ConfigurationsReady`,
 *   `RoutesReady`, `Ready`;
 * - a DomainMapping whose Service exists gets Ready and `url: http://<name>`.
 *
 * What it does not do: run anything, honour `spec.traffic` splits, tag-to-digest
 * resolution, scale. Revisions report `actualReplicas` = the `min-scale`
 * annotation (0 when absent), i.e. an idle service scaled to zero.
 */

const SERVING_GROUP = 'serving.knative.dev';
const SERVICE = { group: SERVING_GROUP, version: 'v1', plural: 'services' };
const REVISION = { group: SERVING_GROUP, version: 'v1', plural: 'revisions' };
const DOMAIN_MAPPING = {
  group: SERVING_GROUP,
  version: 'v1beta1',
  plural: 'domainmappings',
};

const LABEL_SERVICE = 'serving.knative.dev/service';
const LABEL_CONFIGURATION = 'serving.knative.dev/configuration';
const LABEL_CONFIGURATION_GENERATION =
  'serving.knative.dev/configurationGeneration';
/** On Revisions the simulator creates: a hash of the template they came from. */
export const ANNOTATION_TEMPLATE_HASH = 'simulator.paved.dev/template-hash';
const MIN_SCALE = 'autoscaling.knative.dev/min-scale';

/** Why a Revision failed, as Knative's revision reconciler reports it. */
export interface RevisionFailure {
  /** Revision condition that fails: ContainerHealthy or ResourcesAvailable. */
  condition: 'ContainerHealthy' | 'ResourcesAvailable';
  reason: string;
  message: string;
}

/** Failures with Knative's real reasons and message formats. */
export const KnativeFailures = {
  /** The image (tag) does not exist: Knative fails while resolving the digest. */
  imageNotFound(image: string): RevisionFailure {
    return {
      condition: 'ContainerHealthy',
      reason: 'ContainerMissing',
      message: `Unable to fetch image "${image}": failed to resolve image to digest: MANIFEST_UNKNOWN: manifest unknown`,
    };
  },
  /** The registry refused the pull (private image without credentials). */
  imagePullUnauthorized(image: string): RevisionFailure {
    return {
      condition: 'ContainerHealthy',
      reason: 'ContainerMissing',
      message: `Unable to fetch image "${image}": failed to resolve image to digest: UNAUTHORIZED: authentication required`,
    };
  },
  /** The ResourceQuota refused the pod, as the Deployment's ReplicaFailure reports it. */
  exceededQuota(options: {
    revision: string;
    quota: string;
    requested: string;
    used: string;
    limited: string;
  }): RevisionFailure {
    return {
      condition: 'ResourcesAvailable',
      reason: 'FailedCreate',
      message: `pods "${options.revision}-deployment-6d4b5c9f7-x8k2p" is forbidden: exceeded quota: ${options.quota}, requested: ${options.requested}, used: ${options.used}, limited: ${options.limited}`,
    };
  },
  /** The container exits at start (a crash, or it does not listen on $PORT). */
  containerExited(exitCode: number, output: string): RevisionFailure {
    return {
      condition: 'ContainerHealthy',
      reason: `ExitCode${exitCode}`,
      message: `Container failed with: ${output}`,
    };
  },
};

export interface KnativeStatusSimulatorOptions {
  kubeConfig: k8s.KubeConfig;
  /** Domain of Service URLs: `http://<name>.<namespace>.<domain>`. Default `example.com`. */
  domain?: string;
  /**
   * How long a new Revision stays "Deploying" (conditions Unknown) before it
   * becomes Ready or fails. Default 0: at once.
   */
  deployDelayMs?: number;
  /** Fails every new Revision whose first container's image this returns a failure for. */
  failImage?: (image: string) => RevisionFailure | undefined;
  log?: (line: string) => void;
}

interface KnativeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  severity?: string;
}

interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  status?: any;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map(
        key =>
          `${JSON.stringify(key)}:${stableJson(
            (value as Record<string, unknown>)[key],
          )}`,
      )
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function templateHash(template: unknown): string {
  return createHash('sha256')
    .update(stableJson(template ?? {}))
    .digest('hex')
    .slice(0, 16);
}

/** Keeps lastTransitionTime when a condition's status did not flip, as Knative does. */
function withTransitionTimes(
  next: KnativeCondition[],
  previous: KnativeCondition[] | undefined,
): KnativeCondition[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return next.map(condition => {
    const before = previous?.find(c => c.type === condition.type);
    return {
      ...condition,
      lastTransitionTime:
        before && before.status === condition.status
          ? before.lastTransitionTime
          : now,
    };
  });
}

/** Status equality; lastTransitionTime takes part, but withTransitionTimes keeps it stable when nothing flipped. */
function sameStatus(a: unknown, b: unknown): boolean {
  return stableJson(a ?? {}) === stableJson(b ?? {});
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: number }).code === 404;
}

function isConflict(error: unknown): boolean {
  return (error as { code?: number }).code === 409;
}

/** See the module comment: a test stand-in for Knative Serving's controller. */
export class KnativeStatusSimulator {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly watch: k8s.Watch;
  private readonly domain: string;
  private readonly deployDelayMs: number;
  private readonly log: (line: string) => void;
  private readonly failures = new Map<string, RevisionFailure>();
  private readonly revisionBorn = new Map<string, number>();
  private readonly queue = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private readonly wakers = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private stopped = false;

  constructor(private readonly options: KnativeStatusSimulatorOptions) {
    this.custom = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.watch = new k8s.Watch(options.kubeConfig);
    this.domain = options.domain ?? 'example.com';
    this.deployDelayMs = options.deployDelayMs ?? 0;
    this.log = options.log ?? (() => {});
  }

  /** Starts watching; resolves once the first list of both kinds was handled. */
  async start(): Promise<void> {
    const firstLists = [SERVICE, DOMAIN_MAPPING].map(
      resource =>
        new Promise<void>(resolve => {
          this.loops.push(this.watchLoop(resource, resolve));
        }),
    );
    await Promise.all(firstLists);
    await this.idle();
  }

  /** Stops watching and waits for in-flight status writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.aborts.forEach(a => a.abort());
    this.timers.forEach(t => clearTimeout(t));
    this.wakers.forEach(wake => wake());
    await Promise.all(this.loops);
    await this.idle();
  }

  /**
   * From now on, new Revisions of this Service fail with `failure` (until
   * {@link recover}). Re-reconciles the Service at once, so a Revision that
   * is still deploying fails too.
   */
  fail(namespace: string, name: string, failure: RevisionFailure): void {
    this.failures.set(`${namespace}/${name}`, failure);
    this.enqueue('service', namespace, name);
  }

  /** New Revisions of this Service become Ready again. */
  recover(namespace: string, name: string): void {
    this.failures.delete(`${namespace}/${name}`);
    this.enqueue('service', namespace, name);
  }

  /** Resolves once no reconcile is queued or running. */
  async idle(): Promise<void> {
    while (this.queue.size) {
      await Promise.all([...this.queue.values()]);
    }
  }

  // ------------------------------------------------------------------ watch

  /** Sleeps, but wakes up at once on stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise(resolve => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** List, handle everything, watch from that version; on any end, again. */
  private async watchLoop(
    resource: typeof SERVICE,
    listed: () => void,
  ): Promise<void> {
    const kind = resource === SERVICE ? 'service' : 'domainmapping';
    let backoffMs = 0;
    while (!this.stopped) {
      try {
        const list = await this.custom.listCustomObjectForAllNamespaces(
          resource,
        );
        for (const item of list.items as KObject[]) {
          this.enqueue(kind, item.metadata.namespace, item.metadata.name);
        }
        listed();
        await new Promise<void>((resolve, reject) => {
          this.watch
            .watch(
              `/apis/${resource.group}/${resource.version}/${resource.plural}`,
              {
                resourceVersion: list.metadata.resourceVersion,
                allowWatchBookmarks: true,
              },
              (type, obj: KObject) => {
                if (type === 'ADDED' || type === 'MODIFIED') {
                  this.enqueue(kind, obj.metadata.namespace, obj.metadata.name);
                } else if (type === 'ERROR') {
                  // e.g. 410 Gone: the server ends the watch; we list again.
                  this.log(`watch ${resource.plural}: ${JSON.stringify(obj)}`);
                }
              },
              err => (err ? reject(err) : resolve()),
            )
            .then(controller => {
              this.aborts.add(controller);
              if (this.stopped) controller.abort();
            }, reject);
        });
        backoffMs = 0;
      } catch (error) {
        if (this.stopped) break;
        backoffMs = Math.min(Math.max(backoffMs * 2, 200), 5000);
        this.log(
          `watch ${resource.plural} failed (${
            (error as Error).message
          }); listing again in ${backoffMs} ms`,
        );
        await this.pause(backoffMs);
      }
    }
  }

  /** Reconciles one object at a time per key; events while queued coalesce. */
  private enqueue(
    kind: 'service' | 'domainmapping',
    namespace: string,
    name: string,
  ) {
    if (this.stopped) return;
    const key = `${kind}/${namespace}/${name}`;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    const previous = this.queue.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      this.dirty.delete(key);
      if (this.stopped) return;
      try {
        if (kind === 'service') await this.reconcileService(namespace, name);
        else await this.reconcileDomainMapping(namespace, name);
      } catch (error) {
        if (this.stopped) return;
        this.log(`reconcile ${key}: ${(error as Error).message}; retrying`);
        this.enqueueAfter(200, kind, namespace, name);
      }
    });
    this.queue.set(key, next);
    next.finally(() => {
      if (this.queue.get(key) === next) this.queue.delete(key);
    });
  }

  private enqueueAfter(
    ms: number,
    kind: 'service' | 'domainmapping',
    namespace: string,
    name: string,
  ) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(kind, namespace, name);
    }, ms);
    this.timers.add(timer);
  }

  // -------------------------------------------------------------- services

  private async reconcileService(namespace: string, name: string) {
    let service: KObject;
    try {
      service = await this.custom.getNamespacedCustomObject({
        ...SERVICE,
        namespace,
        name,
      });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (service.metadata.deletionTimestamp) return;

    const revisions = await this.revisionsOf(service);
    const hash = templateHash(service.spec?.template);
    let latest = revisions[revisions.length - 1];
    if (
      !latest ||
      latest.metadata.annotations?.[ANNOTATION_TEMPLATE_HASH] !== hash
    ) {
      const generation =
        Number(latest?.metadata.labels?.[LABEL_CONFIGURATION_GENERATION] ?? 0) +
        1;
      latest = await this.createRevision(service, hash, generation);
      revisions.push(latest);
    }
    for (const revision of revisions) {
      await this.settleRevision(service, revision);
    }

    const status = this.serviceStatus(service, revisions);
    if (!sameStatus(status, service.status)) {
      await this.custom.replaceNamespacedCustomObjectStatus({
        ...SERVICE,
        namespace,
        name,
        body: { ...service, status },
      });
      this.log(
        `service ${namespace}/${name}: ${
          status.conditions.find((c: KnativeCondition) => c.type === 'Ready')
            ?.status
        } (${status.latestCreatedRevisionName})`,
      );
    }
    // DomainMappings resolve their reference through the Service's address.
    const mappings = await this.custom.listNamespacedCustomObject({
      ...DOMAIN_MAPPING,
      namespace,
    });
    for (const mapping of mappings.items as KObject[]) {
      if (mapping.spec?.ref?.name === name) {
        this.enqueue('domainmapping', namespace, mapping.metadata.name);
      }
    }
  }

  /** The Service's Revisions, oldest first. */
  private async revisionsOf(service: KObject): Promise<KObject[]> {
    const list = await this.custom.listNamespacedCustomObject({
      ...REVISION,
      namespace: service.metadata.namespace,
      labelSelector: `${LABEL_SERVICE}=${service.metadata.name}`,
    });
    const generation = (r: KObject) =>
      Number(r.metadata.labels?.[LABEL_CONFIGURATION_GENERATION] ?? 0);
    return (list.items as KObject[])
      .filter(r => !r.metadata.deletionTimestamp)
      .sort((a, b) => generation(a) - generation(b));
  }

  private async createRevision(
    service: KObject,
    hash: string,
    generation: number,
  ): Promise<KObject> {
    const { name, namespace, uid } = service.metadata;
    const template = service.spec?.template ?? {};
    const revisionName =
      template.metadata?.name ??
      `${name}-${String(generation).padStart(5, '0')}`;
    const body: KObject = {
      apiVersion: `${SERVING_GROUP}/v1`,
      kind: 'Revision',
      metadata: {
        name: revisionName,
        namespace,
        labels: {
          ...template.metadata?.labels,
          [LABEL_SERVICE]: name,
          [LABEL_CONFIGURATION]: name,
          [LABEL_CONFIGURATION_GENERATION]: String(generation),
        },
        annotations: {
          ...template.metadata?.annotations,
          [ANNOTATION_TEMPLATE_HASH]: hash,
        },
        // Owned by the Service (Knative: by its Configuration), so the
        // garbage collector removes Revisions with their Service.
        ownerReferences: [
          {
            apiVersion: `${SERVING_GROUP}/v1`,
            kind: 'Service',
            name,
            uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      } as KObject['metadata'],
      spec: template.spec ?? {},
    };
    try {
      const created = (await this.custom.createNamespacedCustomObject({
        ...REVISION,
        namespace,
        body,
      })) as KObject;
      this.revisionBorn.set(created.metadata.uid!, Date.now());
      this.log(`revision ${namespace}/${revisionName} created`);
      return created;
    } catch (error) {
      if (!isConflict(error)) throw error;
      // Created by an earlier attempt whose answer we lost: use it.
      return this.custom.getNamespacedCustomObject({
        ...REVISION,
        namespace,
        name: revisionName,
      });
    }
  }

  /** Writes a Revision's status: Deploying, then Ready or the requested failure. */
  private async settleRevision(service: KObject, revision: KObject) {
    const ready = revision.status?.conditions?.find(
      (c: KnativeCondition) => c.type === 'Ready',
    );
    if (ready && ready.status !== 'Unknown') return; // outcome is final
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    const born = this.revisionBorn.get(revision.metadata.uid!) ?? 0;
    const wait = born + this.deployDelayMs - Date.now();
    const image = revision.spec?.containers?.[0]?.image ?? '';
    const failure = this.failures.get(key) ?? this.options.failImage?.(image);

    let conditions: KnativeCondition[];
    if (wait > 0 && !failure) {
      conditions = [
        { type: 'Active', status: 'Unknown', reason: 'Deploying' },
        { type: 'ContainerHealthy', status: 'Unknown', reason: 'Deploying' },
        { type: 'Ready', status: 'Unknown', reason: 'Deploying' },
        { type: 'ResourcesAvailable', status: 'Unknown', reason: 'Deploying' },
      ];
      this.enqueueAfter(
        wait,
        'service',
        service.metadata.namespace,
        service.metadata.name,
      );
    } else if (failure) {
      const other =
        failure.condition === 'ContainerHealthy'
          ? 'ResourcesAvailable'
          : 'ContainerHealthy';
      conditions = [
        {
          type: 'Active',
          status: 'Unknown',
          reason: 'Deploying',
        },
        {
          type: failure.condition,
          status: 'False',
          reason: failure.reason,
          message: failure.message,
        },
        {
          type: 'Ready',
          status: 'False',
          reason: failure.reason,
          message: failure.message,
        },
        { type: other, status: 'True' },
      ];
    } else {
      const minScale = Number(revision.metadata.annotations?.[MIN_SCALE] ?? 0);
      conditions = [
        minScale > 0
          ? { type: 'Active', status: 'True' }
          : {
              type: 'Active',
              status: 'False',
              reason: 'NoTraffic',
              message: 'The target is not receiving traffic.',
              severity: 'Info',
            },
        { type: 'ContainerHealthy', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ResourcesAvailable', status: 'True' },
      ];
    }
    const minScale = Number(revision.metadata.annotations?.[MIN_SCALE] ?? 0);
    const ok = conditions.some(c => c.type === 'Ready' && c.status === 'True');
    const status = {
      observedGeneration: revision.metadata.generation,
      conditions: withTransitionTimes(
        conditions.sort((a, b) => a.type.localeCompare(b.type)),
        revision.status?.conditions,
      ),
      actualReplicas: ok ? minScale : 0,
      desiredReplicas: ok ? minScale : 0,
      containerStatuses: (revision.spec?.containers ?? []).map(
        (c: { name?: string }, i: number) => ({
          name: c.name ?? (i === 0 ? 'user-container' : `container-${i}`),
        }),
      ),
    };
    if (sameStatus(status, revision.status)) return;
    const updated = (await this.custom.replaceNamespacedCustomObjectStatus({
      ...REVISION,
      namespace: revision.metadata.namespace,
      name: revision.metadata.name,
      body: { ...revision, status },
    })) as KObject;
    revision.status = updated.status;
    revision.metadata = updated.metadata;
  }

  private serviceStatus(service: KObject, revisions: KObject[]) {
    const { name, namespace } = service.metadata;
    const readyOf = (r: KObject) =>
      r.status?.conditions?.find((c: KnativeCondition) => c.type === 'Ready');
    const latest = revisions[revisions.length - 1];
    const latestReady = [...revisions]
      .reverse()
      .find(r => readyOf(r)?.status === 'True');
    const latestCondition = readyOf(latest);

    let configurationsReady: KnativeCondition;
    if (latestCondition?.status === 'True') {
      configurationsReady = { type: 'ConfigurationsReady', status: 'True' };
    } else if (latestCondition?.status === 'False') {
      configurationsReady = {
        type: 'ConfigurationsReady',
        status: 'False',
        reason: 'RevisionFailed',
        message: `Revision "${latest.metadata.name}" failed with message: ${latestCondition.message}.`,
      };
    } else {
      configurationsReady = {
        type: 'ConfigurationsReady',
        status: 'Unknown',
        reason: latestCondition?.reason ?? 'Deploying',
      };
    }

    let routesReady: KnativeCondition;
    if (latestReady) {
      routesReady = { type: 'RoutesReady', status: 'True' };
    } else if (latestCondition?.status === 'False') {
      routesReady = {
        type: 'RoutesReady',
        status: 'False',
        reason: 'RevisionMissing',
        message: `Configuration "${name}" does not have any ready Revision.`,
      };
    } else {
      routesReady = {
        type: 'RoutesReady',
        status: 'Unknown',
        reason: 'RevisionMissing',
        message: `Configuration "${name}" is waiting for a Revision to become ready.`,
      };
    }

    // Ready follows the last dependent Knative marks not-True: the route.
    const notReady = [routesReady, configurationsReady].find(
      c => c.status !== 'True',
    );
    const ready: KnativeCondition = notReady
      ? {
          type: 'Ready',
          status: notReady.status,
          reason: notReady.reason,
          message: notReady.message,
        }
      : { type: 'Ready', status: 'True' };

    const host = `${name}.${namespace}.${this.domain}`;
    return {
      observedGeneration: service.metadata.generation,
      conditions: withTransitionTimes(
        [configurationsReady, ready, routesReady],
        service.status?.conditions,
      ),
      latestCreatedRevisionName: latest.metadata.name,
      ...(latestReady
        ? {
            latestReadyRevisionName: latestReady.metadata.name,
            traffic: [
              {
                revisionName: latestReady.metadata.name,
                latestRevision: true,
                percent: 100,
              },
            ],
          }
        : {}),
      url: `http://${host}`,
      address: { url: `http://${name}.${namespace}.svc.cluster.local` },
    };
  }

  // -------------------------------------------------------- domain mappings

  private async reconcileDomainMapping(namespace: string, name: string) {
    let mapping: KObject;
    try {
      mapping = await this.custom.getNamespacedCustomObject({
        ...DOMAIN_MAPPING,
        namespace,
        name,
      });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (mapping.metadata.deletionTimestamp) return;

    const ref = mapping.spec?.ref ?? {};
    let resolveProblem: string | undefined;
    try {
      const target: KObject = await this.custom.getNamespacedCustomObject({
        ...SERVICE,
        namespace: ref.namespace ?? namespace,
        name: ref.name,
      });
      if (!target.status?.address?.url) {
        resolveProblem = `address not set for &{Kind:${ref.kind} Namespace:${namespace} Name:${ref.name} APIVersion:${ref.apiVersion} Group: Address:<nil>}`;
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      resolveProblem = `failed to get object ${namespace}/${ref.name}: services.serving.knative.dev "${ref.name}" not found`;
    }

    const conditions: KnativeCondition[] = [
      {
        type: 'CertificateProvisioned',
        status: 'True',
        reason: 'TLSNotEnabled',
        message: 'external-domain-tls is not enabled',
      },
      { type: 'DomainClaimed', status: 'True' },
      resolveProblem
        ? {
            type: 'IngressReady',
            status: 'Unknown',
            reason: 'IngressNotConfigured',
            message: 'Ingress has not yet been reconciled.',
          }
        : { type: 'IngressReady', status: 'True' },
      resolveProblem
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'ResolveFailed',
            message: resolveProblem,
          }
        : { type: 'Ready', status: 'True' },
      resolveProblem
        ? {
            type: 'ReferenceResolved',
            status: 'False',
            reason: 'ResolveFailed',
            message: resolveProblem,
          }
        : { type: 'ReferenceResolved', status: 'True' },
    ];
    const status = {
      observedGeneration: mapping.metadata.generation,
      conditions: withTransitionTimes(conditions, mapping.status?.conditions),
      url: `http://${name}`,
      address: { url: `http://${name}` },
    };
    if (sameStatus(status, mapping.status)) return;
    await this.custom.replaceNamespacedCustomObjectStatus({
      ...DOMAIN_MAPPING,
      namespace,
      name,
      body: { ...mapping, status },
    });
    this.log(
      `domainmapping ${namespace}/${name}: ${
        resolveProblem ? 'False' : 'True'
      }`,
    );
  }
}
