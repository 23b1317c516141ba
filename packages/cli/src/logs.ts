/**
 * `paved logs APP [-f]`: the app's container logs from the API's stream
 * (PavedApiClient.streamLogs), one line each with its time and instance;
 * `--json` prints one JSON object a line (the stream's events).
 */
import { LogStreamEvent, SYSTEM_CONTAINER } from '@paved/plugin-paved-common';
import { CliError, EXIT, UsageError, fromApiError } from './errors';
import { Context, intOption, parseDuration } from './commands';

/**
 * An instance as a person reads it: its revision and the pod's own suffix
 * (`web-00002/4njp7` for pod `web-00002-deployment-6c75584855-4njp7`);
 * `--json` has the full names.
 */
export function instanceLabel(instance: string, revision: string): string {
  if (!revision || !instance.startsWith(`${revision}-`)) return instance;
  return `${revision}/${instance.slice(instance.lastIndexOf('-') + 1)}`;
}

export async function logs(ctx: Context) {
  const { values } = ctx;
  const name = ctx.positionals[0];
  const tailLines = intOption(values, 'tail', 1, 10_000);
  const sinceSeconds =
    typeof values.since === 'string' ? parseDuration(values.since) : undefined;
  if (sinceSeconds !== undefined && sinceSeconds > 604_800) {
    throw new UsageError('--since must be at most 7d');
  }
  const client = await ctx.client();
  const tenantGiven =
    typeof values.tenant === 'string' ? values.tenant : undefined;
  let tenant = tenantGiven ?? ctx.io.env.PAVED_TENANT ?? ctx.config.tenant;
  if (!tenant) {
    const { items } = await client.listTenants().catch(error => {
      throw fromApiError(error, { url: ctx.url, what: 'Listing tenants' });
    });
    if (items.length !== 1) {
      throw new UsageError(
        `Say which tenant ${name} is in with --tenant (you can use: ${
          items.map(t => t.name).join(', ') || 'none'
        })`,
      );
    }
    tenant = items[0].name;
  }
  const follow = values.follow === true;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let failed: string | undefined;
  const onEvent = (event: LogStreamEvent) => {
    if (ctx.json) {
      ctx.io.stdout(`${JSON.stringify(event)}\n`);
    } else if (event.type === 'line') {
      const { line } = event;
      ctx.io.stdout(
        `${line.time} ${instanceLabel(line.instance, line.revision)}${
          line.container === SYSTEM_CONTAINER ? `/${line.container}` : ''
        }  ${line.text}\n`,
      );
    } else if (event.type === 'notice') {
      ctx.io.stderr(`-- ${event.message}\n`);
    }
    // Printed once, as the command's error, when the stream has ended.
    if (event.type === 'error') failed = event.message;
  };
  try {
    await client.streamLogs(
      tenant,
      name,
      { follow, tailLines, sinceSeconds, system: values.system === true },
      { onEvent, signal: abort.signal },
    );
  } catch (error) {
    if (!abort.signal.aborted) {
      throw fromApiError(error, { url: ctx.url, what: `${tenant}/${name}` });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (failed !== undefined) {
    throw new CliError(failed, EXIT.failure);
  }
}
