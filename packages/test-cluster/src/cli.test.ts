import path from 'node:path';
import { parseArgs } from './cli';

describe('yarn cluster arguments', () => {
  it('defaults to all CRDs, no data plane, and the repository kubeconfig', () => {
    const options = parseArgs(['up']);
    expect(options).toMatchObject({
      dataPlane: false,
      capsule: true,
      cilium: true,
      knative: true,
    });
    expect(options !== 'help' && options.kubeconfig).toMatch(
      /\.paved\/kubeconfig$/,
    );
  });

  it('reads the flags', () => {
    expect(
      parseArgs([
        'up',
        '--data-plane',
        '--ingress-port',
        '8081',
        '--no-capsule',
        '--no-cilium',
        '--domain',
        'apps.local',
        '--kubeconfig',
        'kc.yaml',
      ]),
    ).toEqual({
      dataPlane: true,
      ingressPort: 8081,
      capsule: false,
      cilium: false,
      knative: true,
      domain: 'apps.local',
      kubeconfig: path.resolve('kc.yaml'),
    });
    expect(parseArgs(['--help'])).toBe('help');
  });

  it('rejects what it does not understand, saying what to fix', () => {
    expect(() => parseArgs(['up', '--simulate'])).toThrow(
      'Unknown argument "--simulate"; see --help',
    );
    expect(() => parseArgs(['up', '--domain'])).toThrow(
      '--domain needs a value',
    );
    expect(() => parseArgs(['up', '--no-knative', '--data-plane'])).toThrow(
      '--data-plane runs Knative; drop --no-knative',
    );
    expect(() => parseArgs(['up', '--ingress-port', 'x'])).toThrow(
      '--ingress-port needs a port number (1-65535)',
    );
  });
});
