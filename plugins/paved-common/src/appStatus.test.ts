import type { AppView } from './api';
import { describeAppStatus } from './appStatus';

type State = Pick<AppView, 'revision' | 'sync' | 'status'>;

const app = (change: {
  sync?: Partial<AppView['sync']>;
  status?: Partial<AppView['status']>;
  revision?: number;
}): State => ({
  revision: change.revision ?? 2,
  sync: { generation: 2, appliedGeneration: 2, pending: false, ...change.sync },
  status: { known: true, current: true, phase: 'Ready', ...change.status },
});

describe('describeAppStatus', () => {
  it('is settled when Ready or Failed for the current config, and not before', () => {
    expect(describeAppStatus(app({}))).toEqual({
      state: 'ready',
      settled: true,
      phase: 'Ready',
      progress: 'phase Ready',
    });
    const failed = describeAppStatus(
      app({
        status: { phase: 'Failed', message: 'The image could not be pulled' },
      }),
    );
    expect(failed).toMatchObject({
      state: 'failed',
      settled: true,
      severity: 'error',
      message: 'The image could not be pulled',
      progress: 'phase Failed: The image could not be pulled',
    });
    // Ready, but for the config before: the operator has not seen this one.
    expect(
      describeAppStatus(app({ status: { current: undefined } })).settled,
    ).toBe(false);
    // At another revision than the one waited for.
    expect(describeAppStatus(app({}), { revision: 3 }).settled).toBe(false);
    expect(
      describeAppStatus(app({ status: { phase: 'Deploying' } })),
    ).toMatchObject({ state: 'progressing', settled: false });
  });

  it('says what a user can act on, in the order that matters', () => {
    expect(
      describeAppStatus(
        app({
          status: { known: false, current: undefined, phase: undefined },
          sync: { pending: true, appliedGeneration: 1 },
        }),
      ),
    ).toMatchObject({
      state: 'unknown',
      phase: 'Unknown',
      severity: 'info',
      message: expect.stringMatching(
        /^Status unknown: the cluster has not reported/,
      ),
      // The log line says what the wait is for.
      progress: 'waiting for the cluster to accept revision 2',
    });
    expect(
      describeAppStatus(
        app({ sync: { pending: true, lastError: 'connection refused' } }),
      ),
    ).toMatchObject({
      state: 'syncing',
      settled: false,
      severity: 'info',
      message:
        'Your last change is saved and waiting for the cluster to accept it (connection refused); it is retried automatically.',
      progress:
        'waiting for the cluster to accept revision 2 (connection refused)',
    });
    expect(
      describeAppStatus(app({ sync: { lastError: 'plan gone' } })),
    ).toMatchObject({
      state: 'sync-failed',
      severity: 'warning',
      message:
        'The cluster could not be brought in line with this app (plan gone); it is retried automatically.',
    });
    expect(
      describeAppStatus(app({ status: { phase: 'Failed' } })).message,
    ).toBe('The app failed; the operator gave no reason.');
    expect(
      describeAppStatus(
        app({ status: { phase: 'Deploying', message: 'Waiting for quota' } }),
      ),
    ).toMatchObject({ severity: 'warning', message: 'Waiting for quota' });
    expect(
      describeAppStatus(app({ status: { phase: 'Pending', known: true } }))
        .message,
    ).toBeUndefined();
    expect(describeAppStatus(app({ status: { phase: undefined } })).phase).toBe(
      'Pending',
    );
  });
});
