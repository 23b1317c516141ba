import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  createTenantActionInputSchema,
  parseActionInput,
  tenantNamespace,
  TenantView,
} from '@paved/plugin-paved-common';
import { describeApiError, PavedClientSource } from './pavedClient';
import { isNotFound, withInputSchema } from './pavedAction';
import { examples } from './createTenant.examples';

/**
 * `paved:tenant:create`: creates a tenant through the Paved backend.
 * Running it again with the same spec succeeds; a tenant of that name with
 * another owner or plan is a clear error.
 */
export function createPavedTenantCreateAction(options: {
  clients: PavedClientSource;
}) {
  const action = createTemplateAction({
    id: 'paved:tenant:create',
    description:
      'Creates a Paved tenant: a namespace with RBAC for the owner group, network isolation and a quota by plan.',
    examples,
    supportsDryRun: true,
    schema: {
      // Replaced by createTenantActionInputSchema below.
      input: {},
      output: {
        name: z => z.string().describe('The tenant name'),
        namespace: z =>
          z.string().describe('The Kubernetes namespace of the tenant'),
        created: z =>
          z
            .boolean()
            .describe('False when the tenant already existed with this spec'),
      },
    },
    async handler(ctx) {
      const { name, displayName, owner, plan } = parseActionInput(
        createTenantActionInputSchema,
        ctx.input,
      );
      const client = await options.clients.forInitiator(ctx);

      const existing = await getTenantIfExists(client, name);
      if (existing) {
        const differences = [
          existing.owner !== owner &&
            `owner is ${existing.owner}, not ${owner}`,
          existing.plan !== plan && `plan is ${existing.plan}, not ${plan}`,
        ].filter(Boolean);
        if (differences.length > 0) {
          throw new Error(
            `Tenant "${name}" already exists and its ${differences.join(
              ' and ',
            )}; choose another name or change the tenant in Backstage`,
          );
        }
        ctx.logger.info(
          `Tenant "${name}" already exists with this spec; nothing to do`,
        );
        ctx.output('name', existing.name);
        ctx.output('namespace', existing.namespace);
        ctx.output('created', false);
        return;
      }

      if (ctx.isDryRun) {
        const plans = await client.listPlans().catch(error => {
          throw describeApiError('Listing the plans', error);
        });
        if (!plans.items.some(p => p.name === plan)) {
          throw new Error(
            `Unknown plan "${plan}"; choose one of ${plans.items
              .map(p => p.name)
              .join(', ')}`,
          );
        }
        ctx.logger.info(
          `Dry run: would create tenant "${name}" (${displayName}) owned by ${owner} on plan ${plan}`,
        );
        ctx.output('name', name);
        ctx.output('namespace', tenantNamespace(name));
        ctx.output('created', false);
        return;
      }

      const tenant = await ctx.checkpoint({
        key: `paved-tenant-create-${name}`,
        fn: async () => {
          try {
            const created = await client.createTenant({
              name,
              displayName,
              owner,
              plan,
            });
            return { name: created.name, namespace: created.namespace };
          } catch (error) {
            throw describeApiError(`Creating tenant "${name}"`, error);
          }
        },
      });
      ctx.logger.info(
        `Created tenant "${tenant.name}"; the operator is provisioning namespace ${tenant.namespace}`,
      );
      ctx.output('name', tenant.name);
      ctx.output('namespace', tenant.namespace);
      ctx.output('created', true);
    },
  });
  return withInputSchema(action, createTenantActionInputSchema);
}

async function getTenantIfExists(
  client: { getTenant(name: string): Promise<TenantView> },
  name: string,
): Promise<TenantView | undefined> {
  try {
    return await client.getTenant(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw describeApiError(`Looking up tenant "${name}"`, error);
  }
}
