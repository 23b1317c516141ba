import { APPS, KubeClient, KubeObject } from '@paved/kube';
import { condition } from '../desired/conditions';
import { StatusMemo, writeOwnerStatus } from './status';

/** A client that records status writes and Events, answering as the server would. */
function recordingClient() {
  const writes: Array<Record<string, any>> = [];
  const events: string[] = [];
  let version = 100;
  const client = {
    apply: async (_type: unknown, body: KubeObject) => {
      writes.push(body.status as Record<string, any>);
      return {
        ...body,
        metadata: { ...body.metadata, resourceVersion: String(++version) },
      };
    },
    create: async (_type: unknown, event: { message: string }) => {
      events.push(event.message);
      return event;
    },
  } as unknown as KubeClient;
  // One operator session's memo of its status writes.
  const session = { client, statuses: new StatusMemo() };
  return { client, session, writes, events };
}

const app = (resourceVersion: string, status?: Record<string, unknown>) => ({
  apiVersion: 'paved.dev/v1alpha1',
  kind: 'App',
  metadata: {
    name: 'web',
    namespace: 'tenant-a',
    uid: `uid-${expect.getState().currentTestName}`,
    generation: 1,
    resourceVersion,
  },
  status,
});

const deleting = (owner: { metadata: KubeObject['metadata'] }) =>
  condition(owner, 'Ready', 'False', 'Deleting', 'The app is being deleted');

describe('writeOwnerStatus', () => {
  it('writes a changed status once and records the phase change', async () => {
    const { session, writes, events } = recordingClient();
    const cached = app('1', { phase: 'Ready' });
    const written = await writeOwnerStatus(
      session,
      APPS,
      cached,
      { phase: 'Deleting' },
      [deleting(cached)],
    );
    expect(writes).toHaveLength(1);
    expect(writes[0].phase).toBe('Deleting');
    expect(events).toEqual(['Ready → Deleting']);
    // The server's copy, as the watch brings it: nothing to write.
    await writeOwnerStatus(
      session,
      APPS,
      {
        ...cached,
        metadata: { ...cached.metadata, ...written.metadata },
        status: writes[0],
      },
      { phase: 'Deleting' },
      [deleting(cached)],
    );
    expect(writes).toHaveLength(1);
  });

  it('does not write the same status again from a cache that has not seen the write', async () => {
    const { session, writes, events } = recordingClient();
    const cached = app('1', { phase: 'Ready' });
    await writeOwnerStatus(session, APPS, cached, { phase: 'Deleting' }, [
      deleting(cached),
    ]);
    // The next pass runs before the watch event of that write.
    await writeOwnerStatus(session, APPS, cached, { phase: 'Deleting' }, [
      deleting(cached),
    ]);
    expect(writes).toHaveLength(1);
    expect(events).toEqual(['Ready → Deleting']);
  });

  it('writes a new status even where the stale cache already holds it', async () => {
    const { session, writes, events } = recordingClient();
    const cached = app('1', { phase: 'Pending' });
    await writeOwnerStatus(session, APPS, cached, { phase: 'Deploying' }, []);
    // Back to what the stale copy says, which the server no longer has.
    await writeOwnerStatus(session, APPS, cached, { phase: 'Pending' }, []);
    expect(writes.map(w => w.phase)).toEqual(['Deploying', 'Pending']);
    // Passing through is not recorded; settling is.
    expect(events).toEqual([]);
    await writeOwnerStatus(session, APPS, cached, { phase: 'Ready' }, []);
    expect(events).toEqual(['Pending → Ready']);
  });

  it('forgets an owner that is gone', async () => {
    const { session, writes } = recordingClient();
    const cached = app('1', { phase: 'Ready' });
    await writeOwnerStatus(session, APPS, cached, { phase: 'Deleting' }, []);
    session.statuses.forget(cached);
    // Without the memory, the stale copy is taken at its word again.
    await writeOwnerStatus(session, APPS, cached, { phase: 'Deleting' }, []);
    expect(writes).toHaveLength(2);
  });
});
