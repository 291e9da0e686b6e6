/**
 * A local `redis-server` (the Debian package) for the cluster's harnesses: `npm run
 * demo:cluster`, `npm run bench:cluster` and the tests (test/server/cluster/redis-server.ts).
 * It listens on a unix socket only (no TCP port to collide with), with persistence off: a
 * cluster's Redis holds leases, chat streams and checkpoints that are worth nothing after a
 * restart longer than a lease (docs/cluster.md, "Redis restarted empty").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** Longest a redis-server may take to accept connections after spawn. */
export const REDIS_START_TIMEOUT_MS = 10_000;
/** Longest a redis-server may take to exit after SIGTERM before it gets SIGKILL. */
export const REDIS_STOP_TIMEOUT_MS = 3_000;

export interface SpawnRedisOptions {
  /** Working folder (redis-server writes nothing there with persistence off, but needs one). */
  dir: string;
  socketPath: string;
  /** Allow `DEBUG` from local connections (tests use DEBUG SLEEP). */
  debugCommand?: boolean;
}

/** Starts redis-server and resolves once it answers PING on its socket. */
export async function spawnRedisServer(o: SpawnRedisOptions): Promise<ChildProcess> {
  const child = spawn('redis-server', [
    '--port', '0', // no TCP listener: the unix socket only
    '--unixsocket', o.socketPath, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no', // persistence off
    '--dir', o.dir,
    ...(o.debugCommand ? ['--enable-debug-command', 'local'] : []),
    '--loglevel', 'warning',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`redis-server could not start (apt-get install -y redis-server): ${e.message}`)));
  });
  failed.catch(() => {});
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (!(await Promise.race([answersPing(o.socketPath), failed]))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start within ${REDIS_START_TIMEOUT_MS} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** True when a Redis answers PING on `socketPath` within half a second. */
export function answersPing(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** Sends `signal`, then SIGKILL after REDIS_STOP_TIMEOUT_MS; resolves once the process exited. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), REDIS_STOP_TIMEOUT_MS);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}
