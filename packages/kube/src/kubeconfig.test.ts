import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionFromKubeConfigYaml, defaultConnection } from './kubeconfig';

const yaml = (user: string) => `
apiVersion: v1
kind: Config
current-context: dev
contexts:
  - name: dev
    context: { cluster: local, user: me }
clusters:
  - name: local
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ${Buffer.from('CA').toString('base64')}
users:
  - name: me
    user: ${user}
`;

describe('kubeconfig', () => {
  it('reads inline certificates of the current context', () => {
    const c = connectionFromKubeConfigYaml(
      yaml(
        `{ client-certificate-data: ${Buffer.from('CERT').toString(
          'base64',
        )}, client-key-data: ${Buffer.from('KEY').toString('base64')} }`,
      ),
    );
    expect(c.server).toBe('https://127.0.0.1:6443');
    expect(c.ca?.toString()).toBe('CA');
    expect(c.cert?.toString()).toBe('CERT');
    expect(c.key?.toString()).toBe('KEY');
  });

  it('resolves files relative to the kubeconfig and prefers KUBECONFIG', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
    try {
      fs.writeFileSync(path.join(dir, 'token'), 'secret-token\n');
      fs.writeFileSync(path.join(dir, 'config'), yaml('{ tokenFile: token }'));
      const c = defaultConnection({ KUBECONFIG: path.join(dir, 'config') });
      expect(c.tokenFile).toBe(path.join(dir, 'token'));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('reads an exec plugin, resolving nothing until it runs', () => {
    const c = connectionFromKubeConfigYaml(
      yaml(
        '{ exec: { apiVersion: client.authentication.k8s.io/v1, command: gke-gcloud-auth-plugin, interactiveMode: Never } }',
      ),
      '/etc/paved',
    );
    expect(c.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: 'gke-gcloud-auth-plugin',
      args: [],
      env: [],
      installHint: undefined,
      interactiveMode: 'Never',
      provideClusterInfo: false,
      baseDir: '/etc/paved',
      cluster: undefined,
    });
    expect(c.token).toBeUndefined();
  });

  it('refuses what it cannot do, saying what to use instead', () => {
    expect(() =>
      connectionFromKubeConfigYaml(
        yaml('{ auth-provider: { name: gcp, config: {} } }'),
      ),
    ).toThrow(
      'kubeconfig user "me" uses the auth-provider "gcp", which Kubernetes deprecated and Paved does not support: switch the user to the exec plugin gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin, then gcloud container clusters get-credentials <cluster>), or use a token, a token file or a client certificate',
    );
    expect(() =>
      connectionFromKubeConfigYaml(yaml('{ auth-provider: { name: azure } }')),
    ).toThrow(/switch the user to the exec plugin kubelogin .*azure/);
    expect(() =>
      connectionFromKubeConfigYaml(yaml('{ auth-provider: { name: oidc } }')),
    ).toThrow(/the exec plugin kubelogin .*int128.*oidc-login/);
    expect(() =>
      connectionFromKubeConfigYaml(yaml('{ auth-provider: { name: odd } }')),
    ).toThrow(
      /auth-provider "odd".*switch the user to its provider's exec credential plugin/,
    );
    expect(() =>
      connectionFromKubeConfigYaml(
        yaml('{ exec: { command: aws, interactiveMode: Never } }'),
      ),
    ).toThrow(
      'kubeconfig user "me": exec plugin apiVersion is missing: use one of client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1',
    );
    expect(() => connectionFromKubeConfigYaml('current-context: nope')).toThrow(
      'kubeconfig has no current context named "nope"; set current-context',
    );
  });
});
