import fs from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './paths';

/** PEM files of the test cluster's PKI, all in one directory. */
export interface ClusterPki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
const DAYS = ['-days', '30'];

/** Generates a client certificate for `user` in `groups`, signed by the cluster CA. */
export async function issueClientCertificate(
  pki: Pick<ClusterPki, 'caCert' | 'caKey'>,
  dir: string,
  user: string,
  groups: string[] = [],
): Promise<{ cert: string; key: string }> {
  const base = path.join(
    dir,
    `user-${user.replace(/[^a-zA-Z0-9-]/g, '_')}-${Date.now()}`,
  );
  const subject = [
    ...groups.map(group => `/O=${escapeSubject(group)}`),
    `/CN=${escapeSubject(user)}`,
  ].join('');
  await runCommand('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.crt`,
    ...DAYS,
    '-subj',
    subject,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext',
    'extendedKeyUsage=clientAuth',
  ]);
  return { cert: `${base}.crt`, key: `${base}.key` };
}

function escapeSubject(value: string): string {
  return value.replace(/[/\\+=,]/g, c => `\\${c}`);
}

/**
 * Creates a throw-away PKI with the openssl CLI: a CA, the API server's
 * serving certificate for 127.0.0.1/localhost, an admin client certificate in
 * `system:masters`, and the service-account signing key pair. EC P-256 keys
 * keep this at a few tens of milliseconds.
 */
export async function createClusterPki(dir: string): Promise<ClusterPki> {
  await fs.mkdir(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const pki: ClusterPki = {
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    adminCert: file('admin.crt'),
    adminKey: file('admin.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPub: file('sa.pub'),
  };
  const serviceAccount = runCommand('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    pki.serviceAccountKey,
  ]).then(() =>
    runCommand('openssl', [
      'pkey',
      '-in',
      pki.serviceAccountKey,
      '-pubout',
      '-out',
      pki.serviceAccountPub,
    ]),
  );
  await runCommand('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    pki.caKey,
    '-out',
    pki.caCert,
    ...DAYS,
    '-subj',
    '/CN=paved-test-cluster-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const serving = runCommand('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-nodes',
    '-keyout',
    pki.servingKey,
    '-out',
    pki.servingCert,
    ...DAYS,
    '-subj',
    '/CN=kube-apiserver',
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1',
  ]);
  const admin = issueClientCertificate(pki, dir, 'paved-test-admin', [
    'system:masters',
  ]).then(async ({ cert, key }) => {
    await fs.rename(cert, pki.adminCert);
    await fs.rename(key, pki.adminKey);
  });
  await Promise.all([serviceAccount, serving, admin]);
  return pki;
}
