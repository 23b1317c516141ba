/**
 * TEST HELPER, standing in for Knative Serving's controller (no kubelet or
 * Knative runs in the test cluster): for every Knative Service whose spec
 * Knative has not observed yet, it creates the next Revision
 * (`<service>-0000N`) and writes the Service's status as Knative would —
 * Ready with a URL, or RevisionFailed for an image it is told cannot be
 * pulled. Tests count Revisions to check that an unchanged App cuts none.
 */
import { KubeClient } from '../kube/client';
import { Informer } from '../controller/informer';
import { KNATIVE_SERVICES, KubeObject, REVISIONS } from '../kube/types';

export { REVISIONS };

export interface KnativeSimulatorOptions {
  /** Images matching this cannot be "pulled". */
  failingImages?: RegExp;
  domain?: string;
  /** Delay before Knative "becomes ready". */
  readyDelayMs?: number;
}

export class KnativeSimulator {
  private readonly informer: Informer;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly revisionsByService = new Map<string, string>();
  stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly options: KnativeSimulatorOptions = {},
  ) {
    this.informer = new Informer(client, { type: KNATIVE_SERVICES });
    const handle = (o: KubeObject) => {
      if (this.stopped) return;
      const p = this.simulate(o).catch(() => {
        // A conflict or a deleted Service: the next event retries.
      });
      this.inFlight.add(p);
      p.finally(() => this.inFlight.delete(p));
    };
    this.informer.addHandlers({ add: handle, update: (_o, n) => handle(n) });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
    await Promise.all(this.inFlight);
  }

  private async simulate(ksvc: KubeObject): Promise<void> {
    const generation = ksvc.metadata.generation ?? 1;
    const status = (ksvc.status ?? {}) as { observedGeneration?: number };
    if (ksvc.metadata.deletionTimestamp) return;
    if (status.observedGeneration === generation) return;
    const { name, namespace } = ksvc.metadata;
    const template = (ksvc.spec as any).template;
    const templateJson = JSON.stringify(template);
    const key = `${namespace}/${name}`;
    // Knative cuts a revision only when the template changed.
    const revisions = await this.client.list(REVISIONS, {
      namespace,
      labelSelector: `serving.knative.dev/service=${name}`,
    });
    const same = revisions.items.find(
      r =>
        r.metadata.annotations?.['simulator.paved.dev/template'] ===
        templateJson,
    );
    let revisionName = same?.metadata.name;
    const failing =
      this.options.failingImages?.test(template.spec.containers[0].image) ??
      false;
    if (!revisionName) {
      revisionName = `${name}-${String(revisions.items.length + 1).padStart(
        5,
        '0',
      )}`;
      await this.client.create(REVISIONS, {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Revision',
        metadata: {
          name: revisionName,
          namespace,
          // As Knative does: the template's labels, plus its own.
          labels: {
            ...(template.metadata?.labels ?? {}),
            'serving.knative.dev/service': name!,
          },
          annotations: { 'simulator.paved.dev/template': templateJson },
        },
        spec: template.spec,
      });
      const minScale = Number(
        template.metadata?.annotations?.['autoscaling.knative.dev/min-scale'] ??
          0,
      );
      await this.client.apply(
        REVISIONS,
        {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Revision',
          metadata: { name: revisionName, namespace },
          status: failing
            ? {
                observedGeneration: 1,
                actualReplicas: 0,
                desiredReplicas: minScale,
              }
            : {
                observedGeneration: 1,
                actualReplicas: minScale,
                desiredReplicas: minScale,
              },
        },
        { subresource: 'status', fieldManager: 'knative-simulator' },
      );
    }
    this.revisionsByService.set(key, revisionName);
    if (this.options.readyDelayMs) {
      await new Promise(r => setTimeout(r, this.options.readyDelayMs));
    }
    const image = template.spec.containers[0].image;
    const previous = ksvc.status as
      | { latestReadyRevisionName?: string }
      | undefined;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const conditions = failing
      ? ['ConfigurationsReady', 'Ready'].map(type => ({
          type,
          status: 'False',
          reason: 'RevisionFailed',
          message: `Revision "${revisionName}" failed with message: Unable to fetch image "${image}": failed to resolve image to digest: GET https://registry.example/v2/manifests: MANIFEST_UNKNOWN: manifest unknown.`,
          lastTransitionTime: now,
        }))
      : ['ConfigurationsReady', 'RoutesReady', 'Ready'].map(type => ({
          type,
          status: 'True',
          lastTransitionTime: now,
        }));
    // A failed revision leaves the last ready one serving.
    const readyName = failing
      ? previous?.latestReadyRevisionName
      : revisionName;
    const latestReady = readyName ? { latestReadyRevisionName: readyName } : {};
    await this.client.apply(
      KNATIVE_SERVICES,
      {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        metadata: { name, namespace },
        status: {
          observedGeneration: generation,
          conditions,
          url: `http://${name}.${namespace}.${
            this.options.domain ?? 'example.com'
          }`,
          latestCreatedRevisionName: revisionName,
          ...latestReady,
        },
      },
      { subresource: 'status', fieldManager: 'knative-simulator' },
    );
  }
}
