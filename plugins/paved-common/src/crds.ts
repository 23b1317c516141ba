/**
 * Generates the CustomResourceDefinitions of Tenant and App from the zod
 * schemas, so that the cluster validates the same fields the API does.
 * The committed YAML in ../crds is checked against this by crds.test.ts;
 * `yarn generate:crds` rewrites it.
 */
import { z } from 'zod';
import {
  appSpecSchema,
  appStatusSchema,
  tenantSpecSchema,
  tenantStatusSchema,
} from './schemas';
import {
  APP_KIND,
  APP_PLURAL,
  PAVED_GROUP,
  PAVED_VERSION,
  TENANT_KIND,
  TENANT_PLURAL,
} from './identity';

type JsonSchema = { [key: string]: unknown };

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * Turns zod's JSON Schema into a Kubernetes structural schema: every node
 * typed, no `additionalProperties: false` beside `properties` (which the API
 * server rejects), no JSON Schema bookkeeping keys.
 */
export function toStructuralSchema(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'id' || key === '$id') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (
      (key === 'minimum' && value === -SAFE_INTEGER) ||
      (key === 'maximum' && value === SAFE_INTEGER)
    ) {
      continue;
    }
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [
          k,
          toStructuralSchema(v),
        ]),
      );
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = toStructuralSchema(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (!('type' in out)) {
    throw new Error(
      `Schema node has no type and cannot go into a CRD: ${JSON.stringify(
        node,
      )}`,
    );
  }
  return out;
}

function openApiSchema(schema: z.ZodType): JsonSchema {
  return toStructuralSchema(
    z.toJSONSchema(schema, { io: 'input' }) as JsonSchema,
  );
}

interface CrdOptions {
  kind: string;
  plural: string;
  scope: 'Cluster' | 'Namespaced';
  shortNames: string[];
  spec: z.ZodType;
  status: z.ZodType;
  columns: Array<{
    name: string;
    type: string;
    jsonPath: string;
    priority?: number;
  }>;
}

function customResourceDefinition(options: CrdOptions) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${options.plural}.${PAVED_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'paved' },
    },
    spec: {
      group: PAVED_GROUP,
      scope: options.scope,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.kind.toLowerCase(),
        shortNames: options.shortNames,
        categories: ['paved'],
      },
      versions: [
        {
          name: PAVED_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            ...options.columns,
            {
              name: 'Age',
              type: 'date',
              jsonPath: '.metadata.creationTimestamp',
            },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApiSchema(options.spec),
                status: openApiSchema(options.status),
              },
            },
          },
        },
      ],
    },
  };
}

export function tenantCrd() {
  return customResourceDefinition({
    kind: TENANT_KIND,
    plural: TENANT_PLURAL,
    scope: 'Cluster',
    shortNames: ['ptenant'],
    spec: tenantSpecSchema,
    status: tenantStatusSchema,
    columns: [
      { name: 'Owner', type: 'string', jsonPath: '.spec.owner' },
      { name: 'Plan', type: 'string', jsonPath: '.spec.plan' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Namespace', type: 'string', jsonPath: '.status.namespace' },
      { name: 'Apps', type: 'integer', jsonPath: '.status.appCount' },
    ],
  });
}

export function appCrd() {
  return customResourceDefinition({
    kind: APP_KIND,
    plural: APP_PLURAL,
    scope: 'Namespaced',
    shortNames: ['papp'],
    spec: appSpecSchema,
    status: appStatusSchema,
    columns: [
      { name: 'Image', type: 'string', jsonPath: '.spec.image', priority: 1 },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.instances.ready' },
      {
        name: 'Message',
        type: 'string',
        jsonPath: '.status.message',
        priority: 1,
      },
    ],
  });
}

/** Both CRDs, keyed by the file name they are committed under in ../crds. */
export function pavedCrds() {
  return {
    'tenants.paved.dev.yaml': tenantCrd(),
    'apps.paved.dev.yaml': appCrd(),
  };
}
