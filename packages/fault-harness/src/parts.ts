/**
 * The parts of Paved that the harness runs as processes of their own, so
 * that a SIGKILL takes them down the way a crash or an OOM kill would: two
 * operator replicas with leader election, and two backend replicas on one
 * PostgreSQL database. Each killed replica is replaced by a new one, as a
 * Deployment would.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KubeClient, LEASES } from '@paved/kube';
import { NODE_NETWORK } from '@paved/test-cluster';

const NODE_TRANSFORM = require.resolve(
  '@backstage/cli/config/nodeTransform.cjs',
);
const OPERATOR_MAIN = path.join(
  path.dirname(require.resolve('@paved/operator/package.json')),
  'src',
  'main.ts',
);
// The harness runs from source only (never bundled), so __dirname is its own.
// eslint-disable-next-line no-restricted-syntax
const BACKEND_REPLICA = path.join(__dirname, 'backendReplica.ts');

/** The operator's lease (its defaults: paved-system/paved-operator). */
export const LEASE_NAMESPACE = 'paved-system';
export const LEASE_NAME = 'paved-operator';

/** Every replica still running, killed synchronously when the harness exits. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A Node process with its output in a log file, ready once a line matches. */
export class Replica {
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(readonly name: string, readonly child: ChildProcess) {
    running.add(child);
    this.exit = new Promise(resolve =>
      child.once('exit', () => {
        running.delete(child);
        this.exited = true;
        resolve();
      }),
    );
  }

  static async start(options: {
    name: string;
    script: string;
    env: Record<string, string>;
    logDir: string;
    ready: RegExp;
    timeoutMs?: number;
  }): Promise<{ replica: Replica; match: RegExpMatchArray }> {
    const log = fs.createWriteStream(
      path.join(options.logDir, `${options.name}.log`),
      { flags: 'a' },
    );
    const child = spawn(
      process.execPath,
      ['--require', NODE_TRANSFORM, options.script],
      {
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const replica = new Replica(options.name, child);
    const timeoutMs = options.timeoutMs ?? 120_000;
    const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `${options.name} did not start within ${timeoutMs} ms; its log: ${log.path}`,
          ),
        );
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        if (seen === undefined) return;
        seen = (seen + chunk.toString()).slice(-4096);
        const found = options.ready.exec(seen);
        if (found) {
          seen = undefined as any;
          clearTimeout(timer);
          resolve(found);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${options.name} exited (${
              signal ?? code
            }) while starting; its log: ${log.path}`,
          ),
        );
      });
    });
    child.once('exit', () => log.end());
    return { replica, match };
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }
}

/** Operator replicas contending for one lease. */
export class OperatorReplicas {
  private readonly replicas: Replica[] = [];
  private started = 0;

  constructor(
    private readonly options: {
      kubeconfigPath: string;
      logDir: string;
      concurrency: number;
      /** On the real node: Traefik's address may reach tenants' pods. */
      dataPlane: boolean;
    },
  ) {}

  async add(): Promise<Replica> {
    const name = `operator-${++this.started}`;
    const { replica } = await Replica.start({
      name,
      script: OPERATOR_MAIN,
      logDir: this.options.logDir,
      ready: /paved operator started/,
      env: {
        KUBECONFIG: this.options.kubeconfigPath,
        POD_NAME: name,
        PAVED_LEADER_ELECTION: 'true',
        PAVED_LEASE_NAMESPACE: LEASE_NAMESPACE,
        PAVED_LEASE_NAME: LEASE_NAME,
        PAVED_METRICS_PORT: '0',
        PAVED_METRICS_HOST: '127.0.0.1',
        PAVED_CONCURRENCY: String(this.options.concurrency),
        PAVED_LOG_LEVEL: 'info',
        ...(this.options.dataPlane
          ? { PAVED_GATEWAY_CIDRS: `${NODE_NETWORK.gateway}/32` }
          : {}),
      },
    });
    this.replicas.push(replica);
    return replica;
  }

  /** The replica holding the lease now, if one of ours does. */
  async leader(client: KubeClient): Promise<Replica | undefined> {
    const lease = await client.tryGet<any>(LEASES, LEASE_NAME, LEASE_NAMESPACE);
    const holder = lease?.spec?.holderIdentity;
    return this.replicas.find(r => r.alive && r.name === holder);
  }

  /**
   * SIGKILLs the leader (which cannot release its lease: the standby takes
   * over once it expires) and starts a new standby. Returns the name of the
   * replica killed, or undefined when none held the lease.
   */
  async killLeader(client: KubeClient): Promise<string | undefined> {
    const leader = await this.leader(client);
    if (!leader) return undefined;
    await leader.kill();
    const at = this.replicas.indexOf(leader);
    if (at >= 0) this.replicas.splice(at, 1);
    await this.add();
    return leader.name;
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map(r => r.kill()));
  }
}

/** Backend replicas on one PostgreSQL database, behind a client-side balancer. */
export class BackendReplicas {
  private readonly replicas: Array<{ replica: Replica; url: string }> = [];
  private started = 0;

  constructor(
    private readonly options: {
      kubeconfigPath: string;
      databaseUrl: string;
      logDir: string;
    },
  ) {}

  async add(): Promise<void> {
    const name = `backend-${++this.started}`;
    const { replica, match } = await Replica.start({
      name,
      script: BACKEND_REPLICA,
      logDir: this.options.logDir,
      ready: /paved backend replica listening on (\d+)/,
      timeoutMs: 180_000,
      env: {
        KUBECONFIG: this.options.kubeconfigPath,
        PAVED_FAULTS_DATABASE_URL: this.options.databaseUrl,
      },
    });
    this.replicas.push({
      replica,
      url: `http://127.0.0.1:${match[1]}/api/paved`,
    });
  }

  /** Base URLs of the replicas that are up. */
  urls(): string[] {
    return this.replicas.filter(r => r.replica.alive).map(r => r.url);
  }

  /** SIGKILLs one replica (mid-request, as likely as not) and starts another. */
  async killOne(index: number): Promise<string> {
    const [victim] = this.replicas.splice(index % this.replicas.length, 1);
    await victim.replica.kill();
    await this.add();
    return victim.replica.name;
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map(r => r.replica.kill()));
  }
}
