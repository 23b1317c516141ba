import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  appRef,
  deleteAppActionInputSchema,
  parseActionInput,
} from '@paved/plugin-paved-common';
import { describeApiError, PavedClientSource } from './pavedClient';
import { isNotFound, withInputSchema } from './pavedAction';
import { examples } from './deleteApp.examples';

/**
 * `paved:app:delete`: deletes an app. Guarded: `confirm` must repeat
 * `<tenant>/<app>`, so a template cannot delete the wrong app by accident.
 */
export function createPavedAppDeleteAction(options: {
  clients: PavedClientSource;
}) {
  const action = createTemplateAction({
    id: 'paved:app:delete',
    description:
      'Deletes a Paved app and everything the platform created for it.',
    examples,
    supportsDryRun: true,
    schema: {
      // Replaced by deleteAppActionInputSchema below.
      input: {},
      output: {
        deleted: z => z.boolean().describe('False when the app did not exist'),
      },
    },
    async handler(ctx) {
      const { tenant, name, confirm } = parseActionInput(
        deleteAppActionInputSchema,
        ctx.input,
      );
      const ref = appRef(tenant, name);
      if (confirm !== ref) {
        throw new Error(
          `To delete ${ref}, set confirm to "${ref}" (got "${confirm}")`,
        );
      }
      const client = await options.clients.forInitiator(ctx);
      if (ctx.isDryRun) {
        await client.getApp(tenant, name).catch(error => {
          throw describeApiError(`Looking up ${ref}`, error);
        });
        ctx.logger.info(`Dry run: would delete ${ref}`);
        ctx.output('deleted', false);
        return;
      }
      const deleted = await ctx.checkpoint({
        key: `paved-app-delete-${ref}`,
        fn: async () => {
          try {
            await client.deleteApp(tenant, name);
            return true;
          } catch (error) {
            if (isNotFound(error)) return false;
            throw describeApiError(`Deleting ${ref}`, error);
          }
        },
      });
      ctx.logger.info(
        deleted ? `Deleted ${ref}` : `${ref} did not exist; nothing to delete`,
      );
      ctx.output('deleted', deleted);
    },
  });
  return withInputSchema(action, deleteAppActionInputSchema);
}
