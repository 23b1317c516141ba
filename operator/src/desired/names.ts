/** Names of the child objects, so a reader finds them with one grep. */
export const OWNER_ROLE_BINDING = 'paved-owners';
export const ISOLATION_POLICY = 'paved-isolation';
export const RESOURCE_QUOTA = 'paved-quota';
export const LIMIT_RANGE = 'paved-defaults';

export const CAPSULE_TENANT_LABEL = 'capsule.clastix.io/tenant';

export const ANNOTATION_MIN_SCALE = 'autoscaling.knative.dev/min-scale';
export const ANNOTATION_MAX_SCALE = 'autoscaling.knative.dev/max-scale';
export const ANNOTATION_TARGET = 'autoscaling.knative.dev/target';
export const ANNOTATION_QUEUE_CPU_REQUEST =
  'queue.sidecar.serving.knative.dev/cpu-resource-request';
export const ANNOTATION_QUEUE_MEMORY_REQUEST =
  'queue.sidecar.serving.knative.dev/memory-resource-request';
export const ANNOTATION_QUEUE_MEMORY_LIMIT =
  'queue.sidecar.serving.knative.dev/memory-resource-limit';
