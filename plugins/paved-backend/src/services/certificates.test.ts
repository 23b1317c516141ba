import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCertificate } from './certificates';

const QUIET = { stdio: 'pipe' } as const;

/** Real certificates, made by openssl: self-signed, or signed by `ca`. */
function makeCertificate(
  dir: string,
  file: string,
  options: {
    names: string[];
    days?: number;
    ca?: { cert: string; key: string };
    key?: 'rsa' | 'ec';
  },
) {
  const cert = path.join(dir, `${file}.crt`);
  const key = path.join(dir, `${file}.key`);
  const keyArgs =
    options.key === 'rsa'
      ? ['-newkey', 'rsa:2048']
      : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const san = options.names.length
    ? [
        '-addext',
        `subjectAltName=${options.names.map(n => `DNS:${n}`).join(',')}`,
      ]
    : [];
  if (options.ca) {
    const csr = path.join(dir, `${file}.csr`);
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        ...keyArgs,
        '-nodes',
        '-keyout',
        key,
        '-out',
        csr,
        '-subj',
        `/CN=${options.names[0] ?? 'none'}`,
        ...san,
      ],
      QUIET,
    );
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        options.ca.cert,
        '-CAkey',
        options.ca.key,
        '-CAcreateserial',
        '-out',
        cert,
        '-days',
        String(options.days ?? 2),
        '-copy_extensions',
        'copy',
      ],
      QUIET,
    );
  } else {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...keyArgs,
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        `/CN=${options.names[0] ?? 'nobody.example.com'}`,
        ...san,
        '-days',
        String(options.days ?? 2),
      ],
      QUIET,
    );
  }
  return {
    cert,
    key,
    certificate: fs.readFileSync(cert, 'utf8'),
    privateKey: fs.readFileSync(key, 'utf8'),
  };
}

describe('checkCertificate', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-certs-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts a certificate that covers the domain, with its key; answers the expiry', () => {
    const c = makeCertificate(dir, 'ok', { names: ['shop.example.com'] });
    const checked = checkCertificate(
      'shop.example.com',
      c.certificate,
      c.privateKey,
    );
    expect(checked.certificate).toBe(`${c.certificate.trim()}\n`);
    expect(checked.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const days =
      (new Date(checked.notAfter).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1.9);
    expect(days).toBeLessThan(2.1);
  });

  it('accepts a wildcard one label deep, an RSA key, and a chain with the leaf first', () => {
    const ca = makeCertificate(dir, 'ca', {
      names: ['Paved test CA'],
      key: 'rsa',
    });
    const leaf = makeCertificate(dir, 'wild', {
      names: ['*.example.com'],
      ca: { cert: ca.cert, key: ca.key },
      key: 'rsa',
    });
    expect(() =>
      checkCertificate(
        'shop.example.com',
        leaf.certificate + ca.certificate,
        leaf.privateKey,
      ),
    ).not.toThrow();
    expect(() =>
      checkCertificate('a.b.example.com', leaf.certificate, leaf.privateKey),
    ).toThrow(
      'Invalid certificate for a.b.example.com: it does not cover a.b.example.com: its names (subject alternative names) are *.example.com; send a certificate whose SAN lists a.b.example.com (or *.b.example.com)',
    );
    // The chain in the wrong order: the key is the second certificate's.
    expect(() =>
      checkCertificate(
        'shop.example.com',
        ca.certificate + leaf.certificate,
        leaf.privateKey,
      ),
    ).toThrow(/does not cover shop\.example\.com/);
  });

  it('refuses what does not parse, with what to send', () => {
    const c = makeCertificate(dir, 'parse', { names: ['shop.example.com'] });
    expect(() =>
      checkCertificate('shop.example.com', 'not a pem', c.privateKey),
    ).toThrow(
      'Invalid certificate for shop.example.com: certificate holds no PEM certificate; send the chain as PEM text, starting with "-----BEGIN CERTIFICATE-----", leaf first',
    );
    const broken = c.certificate.replace(
      /\n[A-Za-z0-9+/]{20}/,
      '\nAAAAAAAAAAAAAAAAAAAA',
    );
    expect(() =>
      checkCertificate('shop.example.com', broken, c.privateKey),
    ).toThrow(/certificate number 1 in the chain does not parse/);
    expect(() =>
      checkCertificate('shop.example.com', c.certificate, 'nope'),
    ).toThrow(/privateKey does not parse/);
  });

  it('refuses an expired certificate, one not valid yet, one without SAN, and a key of another certificate', () => {
    // Checked at another time: after the certificate expired, before it began.
    const c = makeCertificate(dir, 'dates', { names: ['shop.example.com'] });
    const { notAfter } = checkCertificate(
      'shop.example.com',
      c.certificate,
      c.privateKey,
    );
    const later = new Date(new Date(notAfter).getTime() + 60_000);
    expect(() =>
      checkCertificate('shop.example.com', c.certificate, c.privateKey, later),
    ).toThrow(
      `Invalid certificate for shop.example.com: it expired on ${notAfter}; renew it and send the new one`,
    );
    const earlier = new Date(Date.now() - 86_400_000);
    expect(() =>
      checkCertificate(
        'shop.example.com',
        c.certificate,
        c.privateKey,
        earlier,
      ),
    ).toThrow(/it is not valid before \d{4}-\d\d-\d\dT/);
    const cnOnly = makeCertificate(dir, 'cn', { names: [] });
    expect(() =>
      checkCertificate(
        'nobody.example.com',
        cnOnly.certificate,
        cnOnly.privateKey,
      ),
    ).toThrow(
      /it has no DNS names \(subject alternative names\); browsers ignore the common name/,
    );
    const a = makeCertificate(dir, 'a', { names: ['shop.example.com'] });
    const b = makeCertificate(dir, 'b', {
      names: ['shop.example.com'],
      key: 'rsa',
    });
    expect(() =>
      checkCertificate('shop.example.com', a.certificate, b.privateKey),
    ).toThrow(
      'Invalid certificate for shop.example.com: privateKey is not the key of the certificate; send the key the certificate was issued for',
    );
  });
});
