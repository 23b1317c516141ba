/**
 * The load: tenants and apps created, updated and deleted through the
 * backend's REST API, spread over its replicas, as a client behind a load
 * balancer would do it. A write that got no answer (a replica died under
 * it, a timeout, a 5xx) is sent again, to another replica, until it is
 * answered. Only what the API acknowledged goes into the ledger: that is
 * what the cluster must end up with.
 */
import { Random } from './random';

/** What the API acknowledged for one app. */
export interface AppWant {
  image: string;
  /** Its VERSION env var, set by each deploy (the change on the real node). */
  version: number;
  /** With a secret env var (a Paved Secret in the cluster). */
  secret: boolean;
  /** Acknowledged writes that changed its spec (each may be a revision). */
  specChanges: number;
  deleted: boolean;
}

export interface TenantWant {
  deleted: boolean;
  apps: Map<string, AppWant>;
}

/** Every acknowledged write's outcome, per object. */
export class Ledger {
  readonly tenants = new Map<string, TenantWant>();

  liveApps(): Array<{ tenant: string; app: string; want: AppWant }> {
    const apps = [];
    for (const [tenant, t] of this.tenants) {
      if (t.deleted) continue;
      for (const [app, want] of t.apps) {
        if (!want.deleted) apps.push({ tenant, app, want });
      }
    }
    return apps;
  }
}

export interface WriteStats {
  acknowledged: number;
  /** Writes that needed more than one attempt. */
  retried: number;
  /** Answers that were neither success nor a retryable failure: defects. */
  rejected: string[];
}

type Outcome = 'acknowledged' | 'rejected';

/** The API, over whichever replicas are up. */
export class Api {
  private turn = 0;
  readonly stats: WriteStats = {
    acknowledged: 0,
    retried: 0,
    rejected: [],
  };

  constructor(
    private readonly urls: () => string[],
    private readonly authorization: string,
    private readonly giveUpMs = 180_000,
  ) {}

  /** A GET, retried like a write; the parsed body, or undefined on 404. */
  async read<T>(route: string): Promise<T | undefined> {
    const res = await this.send('GET', route, undefined);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET ${route}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as T;
  }

  /**
   * A write. `alreadyDone` says which answers to a repeated attempt mean an
   * earlier attempt took effect (a 409 for a create, a 404 for a delete).
   */
  async write(
    method: string,
    route: string,
    body: unknown,
    alreadyDone: number[] = [],
  ): Promise<Outcome> {
    const { status, text, attempts } = await this.send(method, route, body);
    if (attempts > 1) this.stats.retried++;
    if (
      (status >= 200 && status < 300) ||
      (attempts > 1 && alreadyDone.includes(status))
    ) {
      this.stats.acknowledged++;
      return 'acknowledged';
    }
    this.stats.rejected.push(
      `${method} ${route}: ${status} ${text.slice(0, 300)}`,
    );
    return 'rejected';
  }

  private async send(method: string, route: string, body: unknown) {
    const deadline = Date.now() + this.giveUpMs;
    let lastError = '';
    for (let attempts = 1; ; attempts++) {
      const urls = this.urls();
      const url = urls.length ? urls[this.turn++ % urls.length] : undefined;
      if (url) {
        try {
          const res = await fetch(url + route, {
            method,
            headers: {
              authorization: this.authorization,
              'content-type': 'application/json',
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          if (res.status < 500) {
            return { status: res.status, ok: res.ok, text, attempts };
          }
          lastError = `${res.status} ${text.slice(0, 200)}`;
        } catch (error) {
          lastError = String((error as Error).cause ?? error);
        }
      } else {
        lastError = 'no backend replica is up';
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${method} ${route}: no answer in ${this.giveUpMs} ms (${attempts} attempts; last: ${lastError})`,
        );
      }
      await new Promise(r => setTimeout(r, Math.min(2000, 100 * attempts)));
    }
  }
}

export interface WorkloadOptions {
  tenants: number;
  apps: number;
  concurrency: number;
  /** Tenant names start with it (unique per run). */
  prefix: string;
  owner: string;
  plan: string;
  random: Random;
  /** The image of an app's version (default {@link versionedImage}). */
  image?: (app: string, version: number) => string;
  /** Called after each write is answered, with the count so far. */
  progress?: (writes: number) => void;
}

/** An image per version (on the control plane alone nothing pulls it). */
export const versionedImage = (app: string, version: number) =>
  `registry.localhost/faults/${app}:${version}.0.0`;

/** The deploy request of an app: its image, and a secret env var for some. */
const deployBody = (
  app: string,
  appImage: string,
  version: number,
  secret: boolean,
) => ({
  image: appImage,
  port: 8080,
  // Small, so that on the one real node a rollout's old and new instances
  // of every app fit at once (else Insufficient cpu dominates the figures).
  resources: { cpu: '50m', memory: '64Mi' },
  env: [
    { name: 'MODE', value: 'faults' },
    { name: 'VERSION', value: String(version) },
    ...(secret ? [{ name: 'TOKEN', value: `s-${app}`, secret: true }] : []),
  ],
});

/**
 * Each tenant in turn (several at a time): created, its apps deployed
 * (some with a secret), then a seeded mix of image updates, env changes,
 * app deletions and, for some tenants, the tenant's deletion.
 */
export async function runWorkload(
  api: Api,
  ledger: Ledger,
  options: WorkloadOptions,
): Promise<void> {
  const { random } = options;
  const image = options.image ?? versionedImage;
  // The plan of each tenant is drawn up front, so the sequence of writes
  // depends on the seed only, not on timing.
  const plans = Array.from({ length: options.tenants }, (_t, t) => {
    const name = `${options.prefix}-t${t}`;
    const apps = Array.from({ length: options.apps }, (_, a) => ({
      name: `app-${a}`,
      secret: random.chance(0.3),
    }));
    const later = Array.from({ length: 1 + random.below(3) }, () => ({
      kind: random.pick(['image', 'image', 'env', 'delete'] as const),
      app: random.below(options.apps),
    }));
    return { name, apps, later, deleteTenant: random.chance(0.2) };
  });
  let writes = 0;
  const counted = async (write: Promise<Outcome>) => {
    const outcome = await write;
    options.progress?.(++writes);
    return outcome;
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < plans.length) {
        const plan = plans[next++];
        const created = await counted(
          api.write(
            'POST',
            '/tenants',
            {
              name: plan.name,
              displayName: `Fault run ${plan.name}`,
              owner: options.owner,
              plan: options.plan,
            },
            [409],
          ),
        );
        if (created !== 'acknowledged') continue;
        const tenant: TenantWant = { deleted: false, apps: new Map() };
        ledger.tenants.set(plan.name, tenant);
        for (const app of plan.apps) {
          const body = deployBody(app.name, image(app.name, 1), 1, app.secret);
          const outcome = await counted(
            api.write('PUT', `/tenants/${plan.name}/apps/${app.name}`, body),
          );
          if (outcome === 'acknowledged') {
            tenant.apps.set(app.name, {
              image: body.image,
              version: 1,
              secret: app.secret,
              specChanges: 1,
              deleted: false,
            });
          }
        }
        for (const step of plan.later) {
          const name = plan.apps[step.app].name;
          const want = tenant.apps.get(name);
          if (!want || want.deleted) continue;
          const route = `/tenants/${plan.name}/apps/${name}`;
          if (step.kind === 'delete') {
            if (
              (await counted(api.write('DELETE', route, undefined, [404]))) ===
              'acknowledged'
            ) {
              want.deleted = true;
            }
          } else if (step.kind === 'image') {
            const version = want.specChanges + 1;
            const newImage = image(name, version);
            const body = deployBody(name, newImage, version, want.secret);
            if (
              (await counted(api.write('PUT', route, body))) === 'acknowledged'
            ) {
              want.image = newImage;
              want.version = version;
              want.specChanges++;
            }
          } else {
            const outcome = await counted(
              api.write('PATCH', `${route}/env`, {
                set: [{ name: 'STEP', value: String(want.specChanges) }],
              }),
            );
            if (outcome === 'acknowledged') want.specChanges++;
          }
        }
        if (plan.deleteTenant) {
          const outcome = await counted(
            api.write('DELETE', `/tenants/${plan.name}`, undefined, [404]),
          );
          if (outcome === 'acknowledged') tenant.deleted = true;
        }
      }
    }),
  );
}

/** One more image for each of up to `count` live apps (a burst after a fault). */
export async function updateBurst(
  api: Api,
  ledger: Ledger,
  random: Random,
  count: number,
  image: (app: string, version: number) => string = versionedImage,
): Promise<void> {
  const live = ledger.liveApps();
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, live.length)) {
    chosen.add(random.below(live.length));
  }
  await Promise.all(
    [...chosen].map(async i => {
      const { tenant, app, want } = live[i];
      const version = want.specChanges + 1;
      const next = image(app, version);
      const outcome = await api.write(
        'PUT',
        `/tenants/${tenant}/apps/${app}`,
        deployBody(app, next, version, want.secret),
      );
      if (outcome === 'acknowledged') {
        want.image = next;
        want.version = version;
        want.specChanges++;
      }
    }),
  );
}

/** Deletes every live tenant of the ledger (the end of a run). */
export async function deleteAll(api: Api, ledger: Ledger): Promise<void> {
  await Promise.all(
    [...ledger.tenants]
      .filter(([, t]) => !t.deleted)
      .map(async ([name, t]) => {
        const outcome = await api.write(
          'DELETE',
          `/tenants/${name}`,
          undefined,
          [404],
        );
        if (outcome === 'acknowledged') t.deleted = true;
      }),
  );
}
