/**
 * A test host of our own to dial: a network namespace made here, joined to
 * the machine by a veth pair on addresses the test chooses (a private and a
 * link-local one, say), with a tiny HTTP listener in it that answers
 * `testhost <address it was called on>`. Pods reach it through the node's
 * routing like any outside address, so a NetworkPolicy's verdict on it is
 * real, and nothing that is not ours is ever a target.
 *
 * The namespace is the listener's own (`unshare --net`), not a named one
 * (`ip netns add` would bind-mount /run/netns over itself, hiding the pod
 * namespaces' mounts from the node's clean-up). The listener exits when
 * this process's pipe to it closes, however this process ends, and the
 * namespace and the veth pair go with it.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestHost {
  /** The host's addresses (inside its namespace), as given. */
  readonly addresses: string[];
  readonly port: number;
  stop(): Promise<void>;
}

const LISTENER = `
const http = require('node:http');
const server = http.createServer((req, res) =>
  res.end('testhost ' + req.socket.localAddress + '\\n'));
server.listen(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
`;

/** The first usable IPv4 address of a /30: the machine's end of the pair. */
function peerOf(address: string): string {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts[3] % 4 !== 2) {
    throw new Error(
      `${address}: give the .2 of a /30 (the machine takes the .1)`,
    );
  }
  return [...parts.slice(0, 3), parts[3] - 1].join('.');
}

/**
 * Starts a test host on `addresses` (each the `.2` of a /30 that this
 * machine must not already use), listening on `port`. Needs root.
 */
export async function startTestHost(options: {
  addresses: string[];
  port: number;
}): Promise<TestHost> {
  const { addresses, port } = options;
  const taken = (await run('ip', ['-o', '-4', 'addr', 'show'])).stdout;
  const routes = (await run('ip', ['-4', 'route', 'show'])).stdout;
  for (const address of addresses) {
    const prefix = address.split('.').slice(0, 3).join('.');
    if (taken.includes(` ${prefix}.`) || routes.includes(`${prefix}.`)) {
      throw new Error(
        `${prefix}.0/24 is in use on this machine; choose other test host addresses`,
      );
    }
  }
  const child: ChildProcess = spawn(
    'unshare',
    ['--net', '--', process.execPath, '-e', LISTENER, String(port)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise(r => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', code =>
        reject(new Error(`the test host's listener exited (${code})`)),
      );
      child.stdout!.on('data', chunk => {
        if (String(chunk).includes('ready')) resolve();
      });
    });
    const pid = String(child.pid);
    const link = `pvth${randomBytes(4).toString('hex')}`;
    const ip = (...args: string[]) => run('ip', args);
    const inside = (...args: string[]) =>
      run('nsenter', ['-t', pid, '-n', 'ip', ...args]);
    await ip(
      'link',
      'add',
      link,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      pid,
    );
    for (const address of addresses) {
      await ip('addr', 'add', `${peerOf(address)}/30`, 'dev', link);
      await inside('addr', 'add', `${address}/30`, 'dev', 'eth0');
    }
    await ip('link', 'set', link, 'up');
    await inside('link', 'set', 'eth0', 'up');
    await inside('link', 'set', 'lo', 'up');
  } catch (error) {
    await stop();
    throw error;
  }
  return { addresses, port, stop };
}
