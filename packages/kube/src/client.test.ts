import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TestCluster } from '@paved/test-cluster';
import { KubeClient } from './client';
import { startControlPlane } from './__testUtils__/controlPlane';

jest.setTimeout(180_000);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const CONFIG_MAPS = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
};

describe('KubeClient against a real API server', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startControlPlane();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('does not keep an answer alive in the keep-alive socket that carried it', async () => {
    const admin = await KubeClient.fromKubeConfig(cluster.kubeConfig);
    // One socket, opened by the request whose answer is watched below.
    const client = await KubeClient.fromKubeConfig(cluster.kubeConfig, {
      maxSockets: 1,
    });
    try {
      await admin.create(CONFIG_MAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'large', namespace: 'default' },
        data: { payload: 'x'.repeat(512 * 1024) },
      });
      let answer: unknown = await client.get(CONFIG_MAPS, 'large', 'default');
      expect(
        (answer as { data: { payload: string } }).data.payload,
      ).toHaveLength(512 * 1024);
      const collected = new WeakRef(answer as object);
      answer = undefined;
      await new Promise(resolve => setImmediate(resolve));
      gc();
      // The socket is still pooled (else there was nothing to let go of).
      const agent = (client as unknown as { agent: http.Agent }).agent;
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
      expect(collected.deref()).toBeUndefined();
    } finally {
      client.close();
      admin.close();
    }
  });
});
