/**
 * An App's Knative Service. The template is a pure function of the App's
 * spec, with a fixed key order, so applying an unchanged App yields the same
 * bytes, Knative sees no change and cuts no new revision.
 */
import {
  ANNOTATION_REDEPLOY,
  APP_CONTAINER,
  AppResource,
  AppSpec,
  PAVED_API_VERSION,
  APP_KIND,
  pavedLabels,
  QUEUE_PROXY_RESOURCES,
} from '@paved/plugin-paved-common';
import { KubeObject, OwnerReference } from '@paved/kube';
import {
  ANNOTATION_MAX_SCALE,
  ANNOTATION_MIN_SCALE,
  ANNOTATION_QUEUE_CPU_REQUEST,
  ANNOTATION_QUEUE_MEMORY_LIMIT,
  ANNOTATION_QUEUE_MEMORY_REQUEST,
  ANNOTATION_TARGET,
} from './names';

export function appOwnerReference(app: AppResource): OwnerReference[] {
  if (!app.metadata.uid) return [];
  return [
    {
      apiVersion: PAVED_API_VERSION,
      kind: APP_KIND,
      name: app.metadata.name,
      uid: app.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

function envVars(spec: AppSpec) {
  return spec.env.map(entry =>
    entry.secretKeyRef
      ? {
          name: entry.name,
          valueFrom: {
            secretKeyRef: {
              name: entry.secretKeyRef.name,
              key: entry.secretKeyRef.key,
            },
          },
        }
      : { name: entry.name, value: entry.value ?? '' },
  );
}

/** The revision template: what, if it changes, makes a new revision. */
export function desiredRevisionTemplate(
  tenant: string,
  app: string,
  spec: AppSpec,
  redeployToken?: string,
) {
  return {
    metadata: {
      labels: pavedLabels(tenant, app),
      annotations: {
        [ANNOTATION_MIN_SCALE]: String(spec.scaling.minInstances),
        [ANNOTATION_MAX_SCALE]: String(spec.scaling.maxInstances),
        [ANNOTATION_TARGET]: String(spec.scaling.targetConcurrency),
        // The queue-proxy's size is Paved's, not the cluster's default or
        // the LimitRange's: plans are sized for it (paved-common's plans.ts).
        [ANNOTATION_QUEUE_CPU_REQUEST]: QUEUE_PROXY_RESOURCES.cpu,
        [ANNOTATION_QUEUE_MEMORY_REQUEST]: QUEUE_PROXY_RESOURCES.memory,
        [ANNOTATION_QUEUE_MEMORY_LIMIT]: QUEUE_PROXY_RESOURCES.memory,
        ...(redeployToken ? { [ANNOTATION_REDEPLOY]: redeployToken } : {}),
      },
    },
    spec: {
      containers: [
        {
          name: APP_CONTAINER,
          image: spec.image,
          ports: [{ containerPort: spec.port }],
          env: envVars(spec),
          resources: {
            requests: {
              cpu: spec.resources.cpu,
              memory: spec.resources.memory,
            },
            limits: { cpu: spec.resources.cpu, memory: spec.resources.memory },
          },
        },
      ],
    },
  };
}

export function desiredKnativeService(
  tenant: string,
  app: AppResource,
  spec: AppSpec,
): KubeObject {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: app.metadata.name,
      namespace: app.metadata.namespace,
      labels: pavedLabels(tenant, app.metadata.name),
      ownerReferences: appOwnerReference(app),
    },
    spec: {
      template: desiredRevisionTemplate(
        tenant,
        app.metadata.name,
        spec,
        app.metadata.annotations?.[ANNOTATION_REDEPLOY],
      ),
    },
  };
}
