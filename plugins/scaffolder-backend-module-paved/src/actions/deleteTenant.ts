import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { PavedApiError, tenantNameProblem } from '@paved/plugin-paved-common';
import { describeApiError, PavedClientSource } from './pavedClient';
import { rejectInvalidInput } from './validateInput';
import { examples } from './deleteTenant.examples';

/**
 * `paved:tenant:delete`: deletes a tenant with all its apps. Guarded:
 * `confirm` must repeat the tenant name.
 */
export function createPavedTenantDeleteAction(options: {
  clients: PavedClientSource;
}) {
  return createTemplateAction({
    id: 'paved:tenant:delete',
    description:
      'Deletes a Paved tenant, its apps and its namespace. This cannot be undone.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        name: z => z.string().describe('The tenant to delete'),
        confirm: z =>
          z
            .string()
            .describe('Type the tenant name again to confirm the deletion'),
      },
      output: {
        deleted: z =>
          z.boolean().describe('False when the tenant did not exist'),
      },
    },
    async handler(ctx) {
      const { name, confirm } = ctx.input;
      rejectInvalidInput([tenantNameProblem(name)]);
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
            if (error instanceof PavedApiError && error.status === 404)
              return false;
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
}
