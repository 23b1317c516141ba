/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's
 * leaderelection package does it: the holder renews the lease every
 * `retryPeriod`; others take it over once they have seen the same record
 * unchanged for `leaseDuration` (measured on their own clock, so clock skew
 * between machines does not matter). Writes are guarded by resourceVersion,
 * so two candidates never both win. The holder releases the lease when it
 * stops, so a standby takes over at once.
 */
import { KubeClient } from './client';
import { isConflict, isNotFound } from './errors';
import { KubeObject, LEASES } from './resources';
import { Logger, noopLogger } from './logger';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
  /** Called once this instance leads; the signal aborts when it stops leading. */
  onStartedLeading: (signal: AbortSignal) => void;
  /** Called when leadership is lost or given up. */
  onStoppedLeading: () => void | Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly logger: Logger;
  private leading = false;
  private leadAbort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** The last record seen and when (on our clock) it last changed. */
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (
      this.leaseDurationMs <= this.renewDeadlineMs ||
      this.renewDeadlineMs <= this.retryPeriodMs
    ) {
      throw new Error(
        'leader election needs leaseDuration > renewDeadline > retryPeriod',
      );
    }
    this.logger = options.logger ?? noopLogger;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get identity(): string {
    return this.options.identity;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  /** Stops campaigning; a leader releases the lease unless told not to. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      if (options.release !== false) await this.release();
      await this.stepDown();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (error) {
        this.logger.warn(`leader election: ${(error as Error).message}`);
      }
      if (this.stopped) break;
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.leadAbort = new AbortController();
          this.logger.info(`${this.identity} became the leader`);
          this.options.onStartedLeading(this.leadAbort.signal);
        }
      } else if (
        this.leading &&
        Date.now() - this.lastRenew > this.renewDeadlineMs
      ) {
        this.logger.warn(`${this.identity} could not renew the lease in time`);
        await this.stepDown();
      }
      await this.sleep(this.retryPeriodMs);
    }
  }

  private async stepDown(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.leadAbort?.abort();
    this.logger.info(`${this.identity} stopped leading`);
    await this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    const lease = await this.client
      .get<Lease>(LEASES, name, namespace)
      .catch(error => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
    if (!lease) {
      try {
        await this.client.create<Lease>(LEASES, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        if (isNotFound(error)) {
          throw new Error(
            `cannot create Lease ${namespace}/${name}: namespace ${namespace} does not exist; create it (kubectl create namespace ${namespace}, or install the Helm chart operator/chart with -n ${namespace} --create-namespace), set PAVED_LEASE_NAMESPACE, or run with PAVED_LEADER_ELECTION=false`,
          );
        }
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime]);
    if (!this.observed || this.observed.record !== record) {
      this.observed = { record, at: Date.now() };
    }
    const holder = spec.holderIdentity || '';
    const heldByOther = holder !== '' && holder !== identity;
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && Date.now() - this.observed.at < leaseMs) {
      return false;
    }
    const takingOver = holder !== identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: takingOver ? microTime(now) : spec.acquireTime,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    };
    try {
      await this.client.replace(LEASES, next);
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.client.get<Lease>(LEASES, name, namespace);
      if (lease.spec?.holderIdentity !== identity) return;
      await this.client.replace(LEASES, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: null,
          leaseDurationSeconds: 1,
          renewTime: microTime(),
        },
      });
      this.logger.info(`${identity} released the lease`);
    } catch (error) {
      this.logger.warn(
        `leader election: could not release the lease: ${
          (error as Error).message
        }`,
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
