import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  deleteTenantActionInputSchema,
  parseActionInput,
} from '@paved/plugin-paved-common';
import { describeApiError, PavedClientSource } from './pavedClient';
import { isNotFound, withInputSchema } from './pavedAction';
import { examples } from './deleteTenant.examples';

/**
 * `paved:tenant:delete`: deletes a tenant with all its apps. Guarded:
 * `confirm` must repeat the tenant name.
 */
export function createPavedTenantDeleteAction(options: {
  clients: PavedClientSource;
}) {
  const action = createTemplateAction({
    id: 'paved:tenant:delete',
    description:
      'Deletes a Paved tenant, its apps and its namespace. This cannot be undone.',
    examples,
    supportsDryRun: true,
    schema: {
      // Replaced by deleteTenantActionInputSchema below.
      input: {},
      output: {
        deleted: z =>
          z.boolean().describe('False when the tenant did not exist'),
      },
    },
    async handler(ctx) {
      const { name, confirm } = parseActionInput(
        deleteTenantActionInputSchema,
        ctx.input,
      );
      if (confirm !== name) {
        throw new Error(
          `To delete tenant ${name}, set confirm to "${name}" (got "${confirm}")`,
        );
      }
      const client = await options.clients.forInitiator(ctx);
      if (ctx.isDryRun) {
        const tenant = await client.getTenant(name).catch(error => {
          throw describeApiError(`Looking up tenant "${name}"`, error);
        });
        ctx.logger.info(
          `Dry run: would delete tenant ${name} with its ${tenant.appCount} app(s) and namespace ${tenant.namespace}`,
        );
        ctx.output('deleted', false);
        return;
      }
      const deleted = await ctx.checkpoint({
        key: `paved-tenant-delete-${name}`,
        fn: async () => {
          try {
            await client.deleteTenant(name);
            return true;
          } catch (error) {
            if (isNotFound(error)) return false;
            throw describeApiError(`Deleting tenant "${name}"`, error);
          }
        },
      });
      ctx.logger.info(
        deleted
          ? `Deleting tenant ${name}; the operator removes its apps, then its namespace`
          : `Tenant ${name} did not exist; nothing to delete`,
      );
      ctx.output('deleted', deleted);
    },
  });
  return withInputSchema(action, deleteTenantActionInputSchema);
}
