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

  it('refuses what it cannot do, saying what to use instead', () => {
    expect(() =>
      connectionFromKubeConfigYaml(yaml('{ exec: { command: aws } }')),
    ).toThrow(
      /exec or auth-provider plugin.*use a token, a token file or a client certificate/,
    );
    expect(() => connectionFromKubeConfigYaml('current-context: nope')).toThrow(
      'kubeconfig has no current context named "nope"; set current-context',
    );
  });
});
