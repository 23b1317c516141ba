/**
 * `paved domains`: an app's custom domains (PUT and DELETE
 * /tenants/{tenant}/apps/{app}/domains/{domain}). A domain is claimed for
 * the tenant; with `--certificate`/`--key` (PEM files) it serves HTTPS.
 * `add` waits until the domain routes to the app (or says why not).
 */
import fs from 'node:fs';
import type { AppView, DomainView } from '@paved/plugin-paved-common';
import { CliError, EXIT, UsageError } from './errors';
import {
  Context,
  call,
  print,
  progress,
  resolveTenant,
  str,
  timeoutMs,
} from './commands';
import { seconds, table } from './format';

function domainRows(app: AppView): string {
  if (!app.domains.length) return `${app.ref} has no custom domains.\n`;
  const status = new Map(
    (app.domainStatus ?? []).map(d => [d.domain, d] as const),
  );
  return table(
    ['DOMAIN', 'CLAIM', 'READY', 'TLS', 'URL'],
    app.domains.map(domain => {
      const d = status.get(domain);
      return [
        domain,
        d?.claim ?? 'pending',
        d?.ready ? 'yes' : 'no',
        d
          ? `${d.tls.state}${d.tls.notAfter ? ` until ${d.tls.notAfter}` : ''}`
          : '',
        d?.url ?? '',
      ];
    }),
  );
}

function readPem(path: string, what: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `Cannot read the ${what} ${path}: ${(error as Error).message}`,
    );
  }
}

export async function domainsList(ctx: Context) {
  const name = ctx.positionals[0];
  const tenant = await resolveTenant(ctx);
  const app = await call(ctx, `${tenant}/${name}`, c => c.getApp(tenant, name));
  print(ctx, domainRows(app), app.domainStatus ?? app.domains);
}

/** Why a domain will not get ready by waiting, if it will not. */
function blocked(domain: DomainView): string | undefined {
  if (domain.claim === 'taken') {
    return `${domain.domain} is claimed in the cluster outside Paved${
      domain.message ? ` (${domain.message})` : ''
    }; choose another domain, or ask your platform team`;
  }
  if (domain.tls.state === 'failed') {
    return `TLS for ${domain.domain} failed: ${
      domain.tls.reason ?? domain.message ?? 'no reason given'
    }`;
  }
  return undefined;
}

export async function domainsAdd(ctx: Context) {
  const [name, domain] = ctx.positionals;
  const certificatePath = str(ctx.values, 'certificate');
  const keyPath = str(ctx.values, 'key');
  if ((certificatePath === undefined) !== (keyPath === undefined)) {
    throw new UsageError(
      'Give both --certificate and --key for HTTPS, or neither for HTTP only',
    );
  }
  const tls =
    certificatePath && keyPath
      ? {
          certificate: readPem(certificatePath, 'certificate'),
          privateKey: readPem(keyPath, 'private key'),
        }
      : {};
  const started = Date.now();
  const tenant = await resolveTenant(ctx);
  const before = await call(ctx, `${tenant}/${name}`, c =>
    c.getApp(tenant, name),
  );
  let app = await call(ctx, `Adding ${domain} to ${tenant}/${name}`, c =>
    c.putDomain(tenant, name, domain, {
      ...tls,
      expectedGeneration: before.sync.generation,
    }),
  );
  progress(
    ctx,
    `Added ${domain} to ${app.ref}${
      tls.certificate ? ' with its certificate' : ''
    }`,
  );
  if (ctx.values['no-wait'] === true) {
    print(ctx, domainRows(app), app);
    return;
  }
  const deadline = started + timeoutMs(ctx.values);
  let last = '';
  for (;;) {
    const status = app.domainStatus?.find(d => d.domain === domain);
    const step = status
      ? `claim ${status.claim}, ${
          status.ready ? 'routed' : 'not routed yet'
        }, TLS ${status.tls.state}${
          status.message ? `: ${status.message}` : ''
        }`
      : 'waiting for the cluster';
    if (step !== last) {
      last = step;
      progress(ctx, `  ${seconds(Date.now() - started).padStart(7)}  ${step}`);
    }
    const why = status && blocked(status);
    if (why) throw new CliError(why, EXIT.failure);
    const tlsDone = !tls.certificate || status?.tls.state === 'ready';
    if (status?.ready && tlsDone) {
      print(
        ctx,
        `Domain added: ${app.ref} answers at ${status.url} (${seconds(
          Date.now() - started,
        )})\n`,
        app,
      );
      return;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `Timed out waiting for ${domain} on ${app.ref}: ${step}`,
        EXIT.timeout,
        `It is saved and may still get there: \`paved domains ${name} --tenant ${tenant}\`.`,
      );
    }
    await ctx.sleep(1000);
    app = await call(ctx, `Reading ${app.ref}`, c => c.getApp(tenant, name));
  }
}

export async function domainsRemove(ctx: Context) {
  const [name, domain] = ctx.positionals;
  const tenant = await resolveTenant(ctx);
  const before = await call(ctx, `${tenant}/${name}`, c =>
    c.getApp(tenant, name),
  );
  if (!before.domains.includes(domain)) {
    throw new CliError(
      `${before.ref} has no domain ${domain}`,
      EXIT.notFound,
      `\`paved domains ${name}\` lists its domains.`,
    );
  }
  const app = await call(ctx, `Removing ${domain} from ${tenant}/${name}`, c =>
    c.removeDomain(tenant, name, domain, {
      expectedGeneration: before.sync.generation,
    }),
  );
  print(
    ctx,
    `Removed ${domain} from ${app.ref}: its claim and certificate are released.\n`,
    app,
  );
}
