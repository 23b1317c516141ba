/**
 * Checks a certificate an owner brings for a custom domain, with
 * node:crypto's X509Certificate: it parses (PEM, a chain with the leaf
 * first), is valid now, covers the domain (a DNS name in its SAN, wildcards
 * one label deep) and the private key is the leaf's. Each refusal says what
 * to fix.
 */
import { InputError } from '@backstage/errors';
import { X509Certificate, createPrivateKey, KeyObject } from 'node:crypto';
import type { DomainCertificate } from '../database/DomainStore';

const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function refuse(domain: string, problem: string): never {
  throw new InputError(`Invalid certificate for ${domain}: ${problem}`);
}

/** The DNS names of a certificate's SAN (`DNS:a, DNS:b` → [a, b]). */
function dnsNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(s => s.startsWith('DNS:'))
    .map(s => s.slice(4));
}

function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false; // a key of another type (EC for an RSA certificate)
  }
}

/** The checked certificate as it is stored: the PEM blocks, the key, the expiry. */
export function checkCertificate(
  domain: string,
  certificatePem: string,
  privateKeyPem: string,
  now: Date = new Date(),
): DomainCertificate {
  const blocks = certificatePem.match(PEM_CERTIFICATE) ?? [];
  if (!blocks.length) {
    refuse(
      domain,
      'certificate holds no PEM certificate; send the chain as PEM text, starting with "-----BEGIN CERTIFICATE-----", leaf first',
    );
  }
  const chain = blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      return refuse(
        domain,
        `certificate number ${index + 1} in the chain does not parse (${
          (error as Error).message
        }); send the PEM text unchanged`,
      );
    }
  });
  const leaf = chain[0];
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (validTo.getTime() <= now.getTime()) {
    refuse(
      domain,
      `it expired on ${validTo.toISOString()}; renew it and send the new one`,
    );
  }
  if (validFrom.getTime() > now.getTime()) {
    refuse(
      domain,
      `it is not valid before ${validFrom.toISOString()}; send it once it is, or one valid now`,
    );
  }
  if (!leaf.checkHost(domain, { subject: 'never', wildcards: true })) {
    const names = dnsNames(leaf);
    refuse(
      domain,
      names.length
        ? `it does not cover ${domain}: its names (subject alternative names) are ${names.join(
            ', ',
          )}; send a certificate whose SAN lists ${domain} (or *.${domain
            .split('.')
            .slice(1)
            .join('.')})`
        : `it has no DNS names (subject alternative names); browsers ignore the common name, so send a certificate whose SAN lists ${domain}`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(privateKeyPem);
    return refuse(
      domain,
      encrypted
        ? 'privateKey is encrypted with a passphrase; send it decrypted (e.g. `openssl pkey -in key.pem -out plain.pem`), it is stored encrypted'
        : `privateKey does not parse (${
            (error as Error).message
          }); send the PEM text starting with "-----BEGIN PRIVATE KEY-----" (or RSA/EC PRIVATE KEY)`,
    );
  }
  if (!keyMatches(leaf, key)) {
    const other = chain.findIndex(c => keyMatches(c, key));
    refuse(
      domain,
      other > 0
        ? `privateKey belongs to certificate number ${
            other + 1
          } of the chain, not the first; put the domain's own certificate (the leaf) first`
        : 'privateKey is not the key of the certificate; send the key the certificate was issued for',
    );
  }
  return {
    certificate: `${blocks.join('\n')}\n`,
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notAfter: validTo.toISOString(),
  };
}
