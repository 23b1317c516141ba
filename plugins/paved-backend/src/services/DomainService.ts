import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  AppSpec,
  AppView,
  appSpecSchema,
  describeIssues,
} from '@paved/plugin-paved-common';
import type { putDomainRequestSchema } from '@paved/plugin-paved-common';
import type { AppRecord } from '../database/PavedStore';
import type { AppService } from './AppService';
import { checkCertificate } from './certificates';
import { Parsed } from './context';

/** Every secret env value of the app is kept: a domain write changes no env. */
function keepAllSecrets(current: AppRecord | undefined): string[] {
  return (current?.spec.env ?? []).filter(e => e.secretKeyRef).map(e => e.name);
}

function validSpec(input: unknown): AppSpec {
  const result = appSpecSchema.safeParse(input);
  if (!result.success) {
    throw new InputError(`Invalid domain: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/**
 * Custom domains of an app, one at a time: add one (with the certificate
 * its owner brought, or none) or remove it. Each is an app write through
 * {@link AppService}'s one write path, so it has the app update permission
 * (on the tenant), 404 for another team's app as for a missing one,
 * expectedGeneration, a revision and an audit entry, and the domain claim
 * in the same transaction (409 when another tenant holds the domain). A
 * certificate is checked before anything is written.
 */
export class DomainService {
  constructor(private readonly apps: AppService) {}

  async put(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    domain: string,
    body: Parsed<typeof putDomainRequestSchema>,
  ): Promise<AppView> {
    const certificate =
      body.certificate !== undefined && body.privateKey !== undefined
        ? checkCertificate(domain, body.certificate, body.privateKey)
        : null;
    const result = await this.apps.write(credentials, tenant, name, {
      action: 'domains',
      mustExist: true,
      expectedGeneration: body.expectedGeneration,
      keepSecrets: keepAllSecrets,
      certificates: new Map([[domain, certificate]]),
      detail: { domain, certificate: Boolean(certificate) },
      spec: current =>
        validSpec({
          ...current!.spec,
          domains: current!.spec.domains.includes(domain)
            ? current!.spec.domains
            : [...current!.spec.domains, domain],
        }),
    });
    return result.app;
  }

  async remove(
    credentials: BackstageCredentials,
    tenant: string,
    name: string,
    domain: string,
    expectedGeneration: number | undefined,
  ): Promise<AppView> {
    const result = await this.apps.write(credentials, tenant, name, {
      action: 'domains',
      mustExist: true,
      expectedGeneration,
      keepSecrets: keepAllSecrets,
      detail: { removed: domain },
      spec: current => {
        const domains = current!.spec.domains;
        if (!domains.includes(domain)) {
          throw new NotFoundError(
            `App ${tenant}/${name} has no domain ${domain}; its domains are ${
              domains.length ? domains.join(', ') : 'none'
            }`,
          );
        }
        return validSpec({
          ...current!.spec,
          domains: domains.filter(d => d !== domain),
        });
      },
    });
    return result.app;
  }
}
