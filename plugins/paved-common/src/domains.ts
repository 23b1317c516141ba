/**
 * Custom domains with TLS: the request of PUT
 * /tenants/{tenant}/apps/{app}/domains/{domain}, each domain's state in the
 * app view (`domainStatus`), and the name of a domain's TLS Secret. A domain
 * is claimed per tenant (one tenant holds it; within the tenant it is on one
 * app, and adding it to another app moves it).
 */
import { z } from 'zod';
import { DomainTls, AppStatus } from './schemas';

/** Longest PEM certificate chain accepted (a chain of a few certificates). */
export const CERTIFICATE_MAX_LENGTH = 64 * 1024;
/** Longest PEM private key accepted (RSA 8192 fits). */
export const PRIVATE_KEY_MAX_LENGTH = 16 * 1024;

export const putDomainRequestSchema = z
  .object({
    certificate: z
      .string({ error: 'certificate must be a PEM string' })
      .min(1, { error: 'certificate is empty; send the PEM chain, leaf first' })
      .max(CERTIFICATE_MAX_LENGTH, {
        error: `certificate must be at most ${CERTIFICATE_MAX_LENGTH} characters`,
      })
      .optional()
      .describe(
        'The certificate chain in PEM, leaf first; it must cover the domain (SAN) and be valid now',
      ),
    privateKey: z
      .string({ error: 'privateKey must be a PEM string' })
      .min(1, { error: 'privateKey is empty; send the PEM private key' })
      .max(PRIVATE_KEY_MAX_LENGTH, {
        error: `privateKey must be at most ${PRIVATE_KEY_MAX_LENGTH} characters`,
      })
      .optional()
      .describe(
        "The certificate's private key in PEM; stored encrypted, never returned",
      ),
    expectedGeneration: z
      .number({ error: 'expectedGeneration must be a number' })
      .int({ error: 'expectedGeneration must be a whole number' })
      .min(0, { error: 'expectedGeneration must be 0 or more' })
      .optional()
      .describe(
        'The generation you last read; the write fails with 409 if the app changed since',
      ),
  })
  .strict()
  .refine(
    body =>
      (body.certificate === undefined) === (body.privateKey === undefined),
    {
      error:
        'Send both certificate and privateKey for HTTPS, or neither for HTTP only',
    },
  );
export type PutDomainRequest = z.input<typeof putDomainRequestSchema>;

export const DOMAIN_CLAIMS = ['claimed', 'pending', 'taken'] as const;
export const DOMAIN_TLS_STATES = [
  'none',
  'pending',
  'ready',
  'failed',
] as const;
export type DomainTlsState = (typeof DOMAIN_TLS_STATES)[number];

export const domainViewSchema = z
  .object({
    domain: z.string(),
    claim: z
      .enum(DOMAIN_CLAIMS)
      .describe(
        "claimed: the tenant holds it, in Paved and in the cluster; pending: the cluster has not reported yet; taken: the cluster's domain claim is held by a namespace outside Paved",
      ),
    ready: z.boolean().describe('The domain routes to the app'),
    url: z
      .string()
      .describe('https://<domain> with TLS, http://<domain> without'),
    tls: z
      .object({
        state: z.enum(DOMAIN_TLS_STATES),
        source: z.enum(['certificate']).optional(),
        reason: z.string().optional(),
        notAfter: z.string().optional(),
      })
      .strict(),
    message: z.string().optional(),
  })
  .strict();
export type DomainView = z.infer<typeof domainViewSchema>;

/**
 * The kubernetes.io/tls Secret of a domain in its tenant namespace (one per
 * domain; it moves with the domain between the tenant's apps).
 */
export function tlsSecretName(domain: string): string {
  const name = `paved-tls-${domain}`;
  if (name.length <= 253) return name;
  // Names are DNS subdomains: keep the end of the domain, unique by a hash.
  let hash = 0;
  for (const c of domain) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return `paved-tls-${hash.toString(16)}.${domain.slice(-230)}`.replace(
    /\.\.+/g,
    '.',
  );
}

/**
 * Each domain of an app as its view shows it: from the spec (which domains
 * serve TLS, and until when) and the App status the operator wrote.
 * `current`: the status describes the current spec.
 */
export function domainStatusOf(
  spec: { domains: string[]; tls?: DomainTls[] },
  status: (AppStatus & { known?: boolean }) | undefined,
  current: boolean,
  now: Date = new Date(),
): DomainView[] {
  const tlsOf = new Map((spec.tls ?? []).map(t => [t.domain, t]));
  const seen = new Map((status?.domains ?? []).map(d => [d.domain, d]));
  return spec.domains.map(domain => {
    const tls = tlsOf.get(domain);
    const live = current ? seen.get(domain) : undefined;
    let claim: DomainView['claim'] = 'pending';
    if (live) claim = live.state === 'Taken' ? 'taken' : 'claimed';
    const ready = live?.state === 'Mapped';
    let tlsView: DomainView['tls'] = { state: 'none' };
    if (tls) {
      const expired = tls.notAfter && new Date(tls.notAfter) < now;
      let state: DomainTlsState = 'pending';
      let reason: string | undefined =
        'Waiting for the cluster to serve the certificate';
      if (expired) {
        state = 'failed';
        reason = `The certificate expired on ${tls.notAfter}; upload a new one`;
      } else if (live?.state === 'Taken' || live?.state === 'Failed') {
        state = 'failed';
        reason = live.message ?? `The domain is ${live.state.toLowerCase()}`;
      } else if (ready && live?.tls) {
        state = 'ready';
        reason = undefined;
      }
      tlsView = {
        state,
        source: 'certificate',
        ...(reason ? { reason } : {}),
        ...(tls.notAfter ? { notAfter: tls.notAfter } : {}),
      };
    }
    return {
      domain,
      claim,
      ready,
      url: `${tls ? 'https' : 'http'}://${domain}`,
      tls: tlsView,
      ...(live?.message && !ready ? { message: live.message } : {}),
    };
  });
}
