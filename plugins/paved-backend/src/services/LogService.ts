import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { setTimeout as delay } from 'node:timers/promises';
import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import {
  LOG_TAIL_DEFAULT,
  LogLine,
  LogStreamEvent,
  LogsQuery,
  SYSTEM_CONTAINER,
  tenantNamespace,
  tenantReadPermission,
} from '@paved/plugin-paved-common';
import { KubeClient, KubeObject, PODS, resourcePath } from '@paved/kube';
import { ServiceContext } from './context';

/** How often a followed stream looks for instances that started or went. */
export const INSTANCE_POLL_MS = 2000;

/** Knative's labels on an app's pods. */
const SERVICE_LABEL = 'serving.knative.dev/service';
const REVISION_LABEL = 'serving.knative.dev/revision';

interface Pod extends KubeObject {
  spec?: { containers?: Array<{ name: string }> };
  status?: {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      restartCount?: number;
      state?: { running?: object; terminated?: object; waiting?: object };
    }>;
  };
}

/** One container of one instance whose log is being read. */
interface Source {
  pod: string;
  revision: string;
  container: string;
}

/** An open log stream: what the route runs once the caller may read it. */
export interface LogSession {
  /** Sends events until done (not following) or `signal` aborts. */
  run(
    send: (event: LogStreamEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** `2026-12-01T20:00:00.123456789Z text` (the log API's timestamps=true) → time and text. */
export function splitTimestamp(raw: string): { time: string; text: string } {
  const space = raw.indexOf(' ');
  const stamp = space < 0 ? raw : raw.slice(0, space);
  if (!/^\d{4}-\d\d-\d\dT/.test(stamp)) {
    return { time: new Date().toISOString(), text: raw };
  }
  return { time: stamp, text: space < 0 ? '' : raw.slice(space + 1) };
}

/** Reads one app's logs for one stream (see {@link LogService}). */
class AppLogReader {
  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly app: string,
    private readonly query: LogsQuery,
  ) {}

  /** The pod's containers whose lines are asked for: all but Knative's queue-proxy, unless `system`. */
  private containersOf(pod: Pod): string[] {
    return (pod.spec?.containers ?? [])
      .map(c => c.name)
      .filter(name => this.query.system || name !== SYSTEM_CONTAINER);
  }

  async run(
    send: (event: LogStreamEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const pods = await this.pods();
    if (!pods.length) {
      send({
        type: 'notice',
        message: `No instance of ${
          this.app
        } is running: it is scaled to zero (or paused)${
          this.query.follow
            ? '; lines appear when a request wakes it'
            : '; send it a request, then read its logs again'
        }`,
      });
    }
    if (this.query.follow) {
      await this.follow(pods, send, signal);
      return;
    }
    const lines: LogLine[] = [];
    await Promise.all(
      this.sources(pods).map(source =>
        this.read(source, {}, signal, line => lines.push(line)).catch(error =>
          send({ type: 'notice', message: this.unreadable(source, error) }),
        ),
      ),
    );
    lines.sort((a, b) => (a.time < b.time ? -1 : Number(a.time > b.time)));
    for (const line of lines) send({ type: 'line', line });
    send({ type: 'end' });
  }

  private async follow(
    initial: Pod[],
    send: (event: LogStreamEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    /** The sources being read, by `pod/container`, with their restart count. */
    const reading = new Map<string, number>();
    /** The last line's time per source, to resume a restarted container after it. */
    const lastTime = new Map<string, string>();
    const known = new Set(initial.map(p => p.metadata.name));
    let pods = initial;
    let first = true;
    while (!signal.aborted) {
      for (const pod of pods) {
        for (const source of this.sources([pod])) {
          const key = `${source.pod}/${source.container}`;
          const restarts = restartCount(pod, source.container);
          if (reading.get(key) === restarts) continue;
          // A read that ended is taken up again only once the container
          // runs again (a restart), not while it lies terminated.
          if (reading.get(key) === -1 && !isRunning(pod, source.container)) {
            continue;
          }
          const resumed = reading.has(key);
          reading.set(key, restarts);
          const since = lastTime.get(key);
          // Instances there when the stream opened: their tail; newer
          // ones (and restarted containers): everything they printed.
          const window = first
            ? {}
            : { tailLines: undefined, sinceSeconds: undefined };
          if (!first && !resumed && !known.has(pod.metadata.name)) {
            known.add(pod.metadata.name);
            send({
              type: 'notice',
              message: `Instance ${pod.metadata.name} (revision ${source.revision}) started`,
            });
          }
          this.read(
            source,
            { ...window, follow: true, sinceTime: since },
            signal,
            line => {
              if (since && line.time <= since) return;
              lastTime.set(key, line.time);
              send({ type: 'line', line });
            },
          )
            .catch(error => {
              if (!signal.aborted) {
                send({
                  type: 'notice',
                  message: this.unreadable(source, error),
                });
              }
            })
            .finally(() => {
              // Ended (the container stopped): read again if it restarts.
              if (reading.get(key) === restarts) reading.set(key, -1);
            });
        }
      }
      first = false;
      // An abort ends the wait early (and the loop).
      await delay(INSTANCE_POLL_MS, undefined, { signal }).catch(() => {});
      if (signal.aborted) break;
      try {
        pods = await this.pods();
      } catch (error) {
        send({
          type: 'notice',
          message: `Could not look for new instances: ${describe(
            error,
          )}; retrying`,
        });
        continue;
      }
      const now = new Set(pods.map(p => p.metadata.name));
      for (const name of known) {
        if (!now.has(name)) {
          known.delete(name);
          send({ type: 'notice', message: `Instance ${name} stopped` });
        }
      }
    }
  }

  private async pods(): Promise<Pod[]> {
    const list = await this.kube.list<Pod>(PODS, {
      namespace: this.namespace,
      labelSelector: `${SERVICE_LABEL}=${this.app}`,
    });
    return list.items.sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
  }

  /** The containers of these pods that have started (a waiting one has no log yet). */
  private sources(pods: Pod[]): Source[] {
    return pods.flatMap(pod =>
      this.containersOf(pod)
        .filter(container => {
          const status = pod.status?.containerStatuses?.find(
            c => c.name === container,
          );
          return Boolean(
            status &&
              (status.state?.running ||
                status.state?.terminated ||
                (status.restartCount ?? 0) > 0),
          );
        })
        .map(container => ({
          pod: pod.metadata.name,
          revision: pod.metadata.labels?.[REVISION_LABEL] ?? '',
          container,
        })),
    );
  }

  private read(
    source: Source,
    window: {
      follow?: boolean;
      tailLines?: number;
      sinceSeconds?: number;
      sinceTime?: string;
    },
    signal: AbortSignal,
    onLine: (line: LogLine) => void,
  ): Promise<void> {
    const tailLines =
      'tailLines' in window
        ? window.tailLines
        : this.query.tailLines ?? LOG_TAIL_DEFAULT;
    const sinceSeconds =
      'sinceSeconds' in window ? window.sinceSeconds : this.query.sinceSeconds;
    return this.kube.streamLines(
      resourcePath(PODS, this.namespace, source.pod, 'log'),
      {
        query: {
          container: source.container,
          timestamps: true,
          follow: window.follow,
          // sinceTime and sinceSeconds are exclusive; sinceTime wins.
          sinceTime: window.sinceTime,
          sinceSeconds: window.sinceTime ? undefined : sinceSeconds,
          tailLines: window.sinceTime ? undefined : tailLines,
        },
        signal,
        onLine: raw => {
          const { time, text } = splitTimestamp(raw);
          onLine({
            time,
            instance: source.pod,
            revision: source.revision,
            container: source.container,
            text,
          });
        },
      },
    );
  }

  private unreadable(source: Source, error: unknown): string {
    return `Could not read the log of ${source.pod} (${
      source.container
    }): ${describe(error)}`;
  }
}

/**
 * An app's container logs from the Kubernetes API: every instance (pod)
 * of every revision, each line labelled with its instance, revision and
 * container; Knative's queue-proxy only when asked. Not following, the
 * tails of all instances are sent merged in time order, then `end`;
 * following, lines are sent as printed, instances that start later are
 * picked up (looked for every {@link INSTANCE_POLL_MS}) and those that go
 * are announced.
 */
export class LogService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Checks the caller may read the app (404 as for a missing one), before any byte is sent. */
  async open(
    credentials: BackstageCredentials,
    tenant: string,
    app: string,
    query: LogsQuery,
  ): Promise<LogSession> {
    const { store, access } = this.ctx.options;
    await access.require(credentials, tenantReadPermission, tenant);
    const record = await store.getApp(tenant, app);
    if (!record || record.deleting) {
      throw new NotFoundError(`App ${tenant}/${app} not found`);
    }
    const kube = this.ctx.options.kube;
    if (!kube) {
      throw new ServiceUnavailableError(
        'No cluster is configured (paved.kubernetes), so there are no logs to read; configure the cluster and try again',
      );
    }
    const reader = new AppLogReader(
      kube,
      tenantNamespace(tenant, this.ctx.options.namespacePrefix),
      app,
      query,
    );
    return { run: (send, signal) => reader.run(send, signal) };
  }
}

function isRunning(pod: Pod, container: string): boolean {
  return Boolean(
    pod.status?.containerStatuses?.find(c => c.name === container)?.state
      ?.running,
  );
}

function restartCount(pod: Pod, container: string): number {
  return (
    pod.status?.containerStatuses?.find(c => c.name === container)
      ?.restartCount ?? 0
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
