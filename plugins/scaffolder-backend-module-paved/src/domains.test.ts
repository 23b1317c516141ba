/**
 * Custom domains with TLS, end to end on a real data plane: the "Deploy a
 * container image" template deploys an app with a custom domain (claimed
 * for its tenant; another tenant's claim of it is refused), the owner
 * brings a self-signed certificate (checked by the backend, stored with
 * its key encrypted, applied as a kubernetes.io/tls Secret), the operator
 * puts the Secret on the domain's DomainMapping, Knative on its ingress,
 * and Traefik's TLS entry point serves HTTPS for the domain: `curl
 * --resolve` against it answers from the example app's container.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DOMAIN_MAPPINGS, KubeClient, SECRETS } from '@paved/kube';
import {
  EXAMPLE_APP_IMAGE,
  eventually,
  useDataPlaneCluster,
} from '@paved/test-cluster';
import {
  ALICE,
  BOB,
  startTemplateStack,
  TEAM_A,
  TEMPLATE_DATA_PLANE,
  TemplateStack,
} from './__testUtils__/templateStack';

const run = promisify(execFile);
jest.setTimeout(420_000);

const DOMAIN = 'shop.example.test';
const TEAM_B = 'group:default/team-b';

/** A self-signed certificate (and its key) for `names`, made with openssl. */
async function selfSigned(dir: string, file: string, names: string[]) {
  const cert = path.join(dir, `${file}.crt`);
  const key = path.join(dir, `${file}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${names[0]}`,
    '-addext',
    `subjectAltName=${names.map(n => `DNS:${n}`).join(',')}`,
  ]);
  return {
    certFile: cert,
    certificate: fs.readFileSync(cert, 'utf8'),
    privateKey: fs.readFileSync(key, 'utf8'),
  };
}

describe('custom domains with TLS, on a real data plane', () => {
  const cluster = useDataPlaneCluster(TEMPLATE_DATA_PLANE);
  let stack: TemplateStack;
  let kube: KubeClient;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paved-domains-'));
    kube = await KubeClient.fromKubeConfig(cluster().kubeConfig);
    stack = await startTemplateStack(cluster());
    for (const [user, name, owner] of [
      [ALICE, 'shop', TEAM_A],
      [BOB, 'rival', TEAM_B],
    ]) {
      const res = await stack.api
        .post('/api/paved/tenants')
        .set('authorization', stack.as(user))
        .send({ name, displayName: name, owner, plan: 'starter' });
      if (res.status !== 201) {
        throw new Error(`tenant ${name}: ${res.status} ${res.text}`);
      }
    }
  }, 180_000);

  afterAll(async () => {
    kube?.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const appPath = (tenant: string, app: string) =>
    `/api/paved/tenants/${tenant}/apps/${app}`;
  const readApp = async (tenant: string, app: string) =>
    (
      await stack.api
        .get(appPath(tenant, app))
        .set('authorization', stack.as(tenant === 'shop' ? ALICE : BOB))
    ).body;

  it('the template deploys an app with a custom domain, claimed for its tenant: another tenant is refused it', async () => {
    const { task, log } = await stack.runTemplate(ALICE, 'paved-deploy-image', {
      tenant: 'shop',
      name: 'web',
      image: EXAMPLE_APP_IMAGE,
      port: 8080,
      env: [],
      minInstances: 0,
      maxInstances: 2,
      domains: [DOMAIN],
    });
    expect({ status: task.status, log }).toMatchObject({ status: 'completed' });
    const app = await readApp('shop', 'web');
    expect(app.domains).toEqual([DOMAIN]);
    expect(app.domainStatus).toEqual([
      expect.objectContaining({
        domain: DOMAIN,
        url: `http://${DOMAIN}`,
        tls: { state: 'none' },
      }),
    ]);

    // Another tenant: neither its deploy nor its domain PUT takes it.
    const deploy = await stack.api
      .put(appPath('rival', 'copy'))
      .set('authorization', stack.as(BOB))
      .send({ image: EXAMPLE_APP_IMAGE, port: 8080, domains: [DOMAIN] });
    expect(deploy.status).toBe(409);
    expect(deploy.body.error.message).toBe(
      `Domain ${DOMAIN} is in use by another tenant; choose another domain, or ask the tenant that has it to remove it from its app (the platform team can see which tenant)`,
    );
    // Nothing was written: the app was not created.
    const missing = await stack.api
      .get(appPath('rival', 'copy'))
      .set('authorization', stack.as(BOB));
    expect(missing.status).toBe(404);
  });

  it('a certificate that does not fit is refused with what to fix, and nothing changes', async () => {
    const before = await readApp('shop', 'web');
    const other = await selfSigned(dir, 'other', ['other.example.test']);
    const mine = await selfSigned(dir, 'mismatch', [DOMAIN]);
    const cases: Array<[object, RegExp]> = [
      [
        { certificate: other.certificate, privateKey: other.privateKey },
        /does not cover shop\.example\.test: its names \(subject alternative names\) are other\.example\.test/,
      ],
      [
        { certificate: mine.certificate, privateKey: other.privateKey },
        /privateKey is not the key of the certificate/,
      ],
      [
        { certificate: 'hello', privateKey: mine.privateKey },
        /holds no PEM certificate/,
      ],
      [
        { certificate: mine.certificate },
        /Send both certificate and privateKey/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await stack.api
        .put(`${appPath('shop', 'web')}/domains/${DOMAIN}`)
        .set('authorization', stack.as(ALICE))
        .send(body);
      expect({ status: res.status, message: res.body.error?.message }).toEqual({
        status: 400,
        message: expect.stringMatching(message),
      });
    }
    // Another team's app answers as a missing one.
    const foreign = await stack.api
      .put(`${appPath('shop', 'web')}/domains/${DOMAIN}`)
      .set('authorization', stack.as(BOB))
      .send({});
    expect(foreign.status).toBe(404);
    const after = await readApp('shop', 'web');
    expect(after.sync.generation).toBe(before.sync.generation);
    expect(after.domainStatus[0].tls).toEqual({ state: 'none' });
  });

  it("with the owner's certificate the domain serves HTTPS from the container, through the real ingress (curl --resolve)", async () => {
    const cert = await selfSigned(dir, 'shop', [DOMAIN]);
    const put = await stack.api
      .put(`${appPath('shop', 'web')}/domains/${DOMAIN}`)
      .set('authorization', stack.as(ALICE))
      .send({ certificate: cert.certificate, privateKey: cert.privateKey });
    expect(put.status).toBe(200);
    expect(put.body.domainStatus[0]).toMatchObject({
      domain: DOMAIN,
      url: `https://${DOMAIN}`,
      tls: { source: 'certificate' },
    });
    // The key is not in the answer.
    expect(JSON.stringify(put.body)).not.toContain('PRIVATE KEY');

    // The Secret the platform wrote, and the mapping that points at it.
    const secret: any = await eventually('TLS Secret', () =>
      kube.tryGet(SECRETS, `paved-tls-${DOMAIN}`, 'tenant-shop'),
    );
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(
      `${cert.certificate.trim()}\n`,
    );
    const mapping: any = await eventually(
      'DomainMapping with TLS',
      async () => {
        const m: any = await kube.tryGet(
          DOMAIN_MAPPINGS,
          DOMAIN,
          'tenant-shop',
        );
        return m?.spec?.tls?.secretName && m;
      },
    );
    expect(mapping.spec.tls.secretName).toBe(`paved-tls-${DOMAIN}`);

    const ready = await eventually(
      'domain TLS ready in the app view',
      async () => {
        const app = await readApp('shop', 'web');
        return app.domainStatus[0]?.tls.state === 'ready' && app;
      },
      180_000,
    );
    expect(ready.domainStatus[0]).toMatchObject({
      claim: 'claimed',
      ready: true,
      url: `https://${DOMAIN}`,
    });

    const port = cluster().dataPlane!.ingressTlsPort;
    const args = [
      '-sS',
      '-v',
      '--max-time',
      '30',
      '--resolve',
      `${DOMAIN}:${port}:127.0.0.1`,
      '--cacert',
      cert.certFile,
      `https://${DOMAIN}:${port}/`,
    ];
    // Traefik loads the certificate a moment after Knative's ingress is
    // ready, and a scaled-to-zero app wakes on the first request.
    const answer = await eventually(
      'curl --resolve over HTTPS',
      async () => {
        const out = await run('curl', args).catch(e => e);
        return /Hello/.test(out.stdout ?? '') && out;
      },
      120_000,
      { intervalMs: 1000 },
    );
    const transcript = `$ curl ${args.join(' ')}\n${answer.stderr}${
      answer.stdout
    }`;
    fs.writeFileSync(
      path.join(os.tmpdir(), 'paved-domains-curl.txt'),
      transcript,
    );
    // eslint-disable-next-line no-console
    console.log(transcript);
    expect(answer.stdout).toMatch(/^Hello/);
    expect(answer.stdout).toContain('K_REVISION=web-00001');
    // The certificate curl verified is the owner's (--cacert), for the domain.
    expect(answer.stderr).toMatch(/subject: CN=shop\.example\.test/);
    expect(answer.stderr).toMatch(/SSL certificate verify ok/);
  });

  it('removing the domain releases it: its Secret and mapping go, and another tenant may claim it', async () => {
    const removed = await stack.api
      .delete(`${appPath('shop', 'web')}/domains/${DOMAIN}`)
      .set('authorization', stack.as(ALICE));
    expect(removed.status).toBe(200);
    expect(removed.body.domains).toEqual([]);
    await eventually(
      'TLS Secret and DomainMapping gone',
      async () =>
        !(await kube.tryGet(SECRETS, `paved-tls-${DOMAIN}`, 'tenant-shop')) &&
        !(await kube.tryGet(DOMAIN_MAPPINGS, DOMAIN, 'tenant-shop')),
    );
    const again = await stack.api
      .delete(`${appPath('shop', 'web')}/domains/${DOMAIN}`)
      .set('authorization', stack.as(ALICE));
    expect(again.status).toBe(404);
    const claimed = await stack.api
      .put(appPath('rival', 'copy'))
      .set('authorization', stack.as(BOB))
      .send({ image: EXAMPLE_APP_IMAGE, port: 8080, domains: [DOMAIN] });
    expect(claimed.status).toBe(201);
    expect(claimed.body.domains).toEqual([DOMAIN]);
  });
});
