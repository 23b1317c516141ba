import fs from 'node:fs';
import path from 'node:path';
import { KNATIVE_SERVICES, KubeClient, resourcePath } from '@paved/kube';
import { upstreamModuleDir } from '../crds';
import { KubeObject, readManifest } from './apply';

export const KNATIVE_NAMESPACE = 'knative-serving';

/** The ingress class of Traefik's Knative provider. */
export const TRAEFIK_INGRESS_CLASS = 'traefik.ingress.networking.knative.dev';

/** The Knative components that run as pods, built from cmd/<name>. */
export const KNATIVE_COMPONENTS = [
  'controller',
  'webhook',
  'autoscaler',
  'activator',
] as const;

export interface KnativeOptions {
  /** Image of each component and of the queue-proxy sidecar (`queue`). */
  images: Record<(typeof KNATIVE_COMPONENTS)[number] | 'queue', string>;
  /** Domain of app URLs: `<app>.<namespace>.<domain>`. */
  domain: string;
  /** Registries whose tags Knative must not resolve (no registry answers). */
  localRegistries: string[];
  /** Extra `config-autoscaler` keys (tests use short scale-to-zero windows). */
  autoscaler?: Record<string, string>;
  /** `config-deployment`'s progress-deadline. Default 120s (Knative's: 600s). */
  progressDeadline?: string;
}

/**
 * The release config of Knative Serving (config/core of the pinned
 * knative.dev/serving, plus the networking and caching CRDs and config it
 * needs), read from the Go module cache and adapted to this machine:
 * component images are the locally built ones, Traefik is the ingress, tags
 * under the local registry are not resolved, CPU requests fit a 2-core node.
 * Left out: the HPAs (no metrics server), and the internal-TLS Certificate
 * (no certificate controller; system-internal-tls stays off).
 */
export async function knativeServingObjects(
  options: KnativeOptions,
): Promise<{ core: KubeObject[]; webhooks: KubeObject[] }> {
  const serving = path.join(
    await upstreamModuleDir('knative.dev/serving'),
    'config',
    'core',
  );
  const networking = path.join(
    await upstreamModuleDir('knative.dev/networking'),
    'config',
  );
  const caching = path.join(
    await upstreamModuleDir('knative.dev/caching'),
    'config',
  );
  const yamlIn = (dir: string) =>
    fs
      .readdirSync(dir)
      .filter(f => f.endsWith('.yaml'))
      .sort()
      .map(f => path.join(dir, f));
  const files = [
    path.join(serving, '100-namespace.yaml'),
    path.join(serving, '200-serviceaccount.yaml'),
    ...yamlIn(path.join(serving, '200-roles')),
    ...yamlIn(path.join(serving, '300-resources')),
    ...['certificate', 'domain-claim', 'ingress', 'serverlessservice'].map(
      name => path.join(networking, `${name}.yaml`),
    ),
    path.join(caching, 'image.yaml'),
    ...yamlIn(path.join(serving, 'configmaps')),
    path.join(networking, 'config-network.yaml'),
    ...KNATIVE_COMPONENTS.map(name =>
      path.join(serving, 'deployments', `${name}.yaml`),
    ),
    // The webhook's (empty) certificate Secret, which the webhook fills.
    path.join(serving, 'webhooks', 'secret.yaml'),
  ];
  // Its webhook configurations fail closed: registered before the webhook
  // answers, they would refuse the ConfigMaps and the Image above.
  const webhookFiles = [
    ...yamlIn(path.join(serving, 'webhooks')).filter(
      file => path.basename(file) !== 'secret.yaml',
    ),
    path.join(serving, '999-cache.yaml'),
  ];
  const read = (list: string[]) =>
    list.flatMap(readManifest).map(object => adapt(object, options));
  return { core: read(files), webhooks: read(webhookFiles) };
}

function adapt(object: KubeObject, options: KnativeOptions): KubeObject {
  const ko = /^ko:\/\/knative\.dev\/serving\/cmd\/(\w+)$/;
  const imageOf = (ref: string) => {
    const name = ref.match(ko)?.[1] as keyof KnativeOptions['images'];
    const image = name && options.images[name];
    if (!image) throw new Error(`No local image for ${ref}`);
    return image;
  };
  if (object.kind === 'Deployment') {
    for (const container of object.spec.template.spec.containers) {
      if (ko.test(container.image)) {
        container.image = imageOf(container.image);
        container.imagePullPolicy = 'Never';
      }
      // A 2-core node also runs the apps; Knative's own requests (600m in
      // all) would leave room for few of them.
      if (container.resources?.requests?.cpu) {
        container.resources.requests.cpu = '20m';
      }
    }
  }
  if (object.kind === 'Image' && ko.test(object.spec?.image)) {
    object.spec.image = imageOf(object.spec.image);
  }
  if (object.kind === 'ConfigMap') {
    const data = (object.data ??= {});
    switch (object.metadata?.name) {
      case 'config-deployment':
        data['queue-sidecar-image'] = options.images.queue;
        // An image that cannot be pulled fails its revision after this.
        data['progress-deadline'] = options.progressDeadline ?? '120s';
        data['registries-skipping-tag-resolving'] =
          options.localRegistries.join(',');
        break;
      case 'config-network':
        data['ingress-class'] = TRAEFIK_INGRESS_CLASS;
        break;
      case 'config-domain':
        object.data = { [options.domain]: '' };
        break;
      case 'config-autoscaler':
        Object.assign(data, options.autoscaler ?? {});
        break;
      default:
    }
  }
  return object;
}

/**
 * Waits until Knative's webhook admits a Service: a dry-run create, which
 * runs the defaulting and validating webhooks and stores nothing. Its
 * webhook configurations fail closed, and for a while after they are
 * registered the webhook still makes its certificate and writes its CA into
 * them; a Service created then fails ("failed calling webhook", "signed by
 * unknown authority"), so the data plane is not ready before this passes.
 */
export async function waitForKnativeWebhook(
  client: KubeClient,
  timeoutMs: number,
): Promise<void> {
  const probe = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'paved-webhook-probe', namespace: 'default' },
    spec: {
      template: {
        spec: { containers: [{ image: 'paved.local/webhook-probe:1' }] },
      },
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.request('POST', resourcePath(KNATIVE_SERVICES, 'default'), {
        body: probe,
        query: { dryRun: 'All' },
      });
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `Knative's webhook did not admit a Service within ${timeoutMs} ms: ${
            (error as Error).message
          }`,
        );
      }
      await new Promise(r => setTimeout(r, 250));
    }
  }
}
