/**
 * Test harness: a real `redis-server` (the Debian package) on a unix socket in a temp dir, with
 * persistence off, started and stopped by the test file that needs it. Nothing is mocked.
 *
 * Outside CI a machine without redis-server skips the Redis tests (with a note); in CI
 * (`CI=true`) a missing redis-server is a failure: .ci/run installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import type { LeaseManager, RoomLease } from '../../../server/cluster/lease.js';

/** Longest a redis-server may take to accept connections after spawn. */
const START_TIMEOUT_MS = 10_000;
/** Longest a redis-server may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 3_000;

const live = new Set<ChildProcess>();
// A test file that crashes must not leave Redis running: kill what is left when the worker exits.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

let available: boolean | undefined;

/** True when `redis-server` runs on this machine. */
export function redisServerAvailable(): boolean {
  available ??= spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  return available;
}

const inCi = process.env.CI === 'true';

/**
 * `describe` for suites that need redis-server: runs them when it is installed or in CI (where
 * its absence must fail loudly), skips them elsewhere.
 */
export const describeWithRedis: typeof describe = (redisServerAvailable() || inCi ? describe : describe.skip) as typeof describe;

if (!redisServerAvailable() && !inCi) {
  console.warn('redis-server is not installed: skipping the Redis tests (apt-get install -y redis-server)');
}

/**
 * Polls `check` (sync or async) every 5 ms until it holds; throws after `timeoutMs` so a broken
 * expectation fails instead of hanging.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The room's lease from `manager`, or a thrown error naming why it was refused. */
export async function own(manager: LeaseManager, room: string): Promise<RoomLease> {
  const result = await manager.acquire(room);
  if (!result.ok) throw new Error(`could not acquire ${room}: ${result.reason}`);
  return result.lease;
}

export interface RedisServer {
  /** `unix://<socket path>`, for connectRedis. */
  readonly url: string;
  readonly socketPath: string;
  readonly pid: number;
  /** SIGSTOP: the process stops answering (connections stay open), like a frozen host. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** SIGKILL and start a fresh, empty redis-server on the same socket (data lost). */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after a while) and remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a redis-server with persistence off on a unix socket in a fresh temp dir. */
export async function startRedisServer(): Promise<RedisServer> {
  if (!redisServerAvailable()) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-redis-'));
  const socketPath = join(dir, 'redis.sock');
  let child = await spawnRedis(dir, socketPath);
  let stopped = false;
  return {
    url: `unix://${socketPath}`,
    socketPath,
    get pid() { return child.pid!; },
    pause: () => { child.kill('SIGSTOP'); },
    resume: () => { child.kill('SIGCONT'); },
    async restart() {
      await kill(child, 'SIGKILL');
      child = await spawnRedis(dir, socketPath);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGCONT'); // a paused server cannot act on SIGTERM
      await kill(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function spawnRedis(dir: string, socketPath: string): Promise<ChildProcess> {
  const child = spawn('redis-server', [
    '--port', '0', // no TCP listener: the unix socket only
    '--unixsocket', socketPath, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no', // persistence off
    '--dir', dir,
    '--enable-debug-command', 'local', // DEBUG SLEEP for tests, from local connections only
    '--loglevel', 'warning',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersPing(socketPath))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

function answersPing(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}

/** A plain node-redis connection for test set-up and inspection (any command, no adapter rules). */
export interface AdminClient {
  command(...args: Array<string | Buffer>): Promise<unknown>;
  close(): Promise<void>;
}

export async function openAdmin(server: RedisServer): Promise<AdminClient> {
  const { createClient } = await import('redis');
  const client = createClient({ socket: { path: server.socketPath, reconnectStrategy: 50 }, RESP: 2 });
  client.on('error', () => { /* restarts in tests; commands report their own errors */ });
  await client.connect();
  return {
    command: (...args: Array<string | Buffer>) => client.sendCommand(args),
    close: async () => { if (client.isOpen) client.destroy(); },
  };
}

/** Shards a test Redis Cluster gets: enough that a room's keys and another room's live apart. */
const CLUSTER_SHARDS = 3;
/** Tries at finding a port P with P and P + 10000 (its cluster bus) free. */
const PORT_TRIES = 50;

export interface RedisCluster {
  /** Comma-separated redis:// URLs of the nodes, for connectRedis({ cluster: true }). */
  readonly url: string;
  readonly ports: number[];
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of CLUSTER_SHARDS masters on loopback (no replicas, persistence off),
 * created with `redis-cli --cluster create` like an operator would.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  if (!redisServerAvailable()) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => kill(c, 'SIGTERM')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < CLUSTER_SHARDS; i++) {
      const port = await freeClusterPort(ports);
      ports.push(port);
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
        '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning',
      ], { stdio: 'ignore' });
      live.add(child);
      child.once('exit', () => live.delete(child));
      children.push(child);
    }
    for (const port of ports) await waitFor(`redis-server on ${port}`, () => cli(port, 'PING').then((r) => r === 'PONG'));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: START_TIMEOUT_MS });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout} ${created.stderr}`);
    for (const port of ports) await waitFor(`cluster_state:ok on ${port}`, () => cli(port, 'CLUSTER', 'INFO').then((r) => r.includes('cluster_state:ok')));
    return { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function freeClusterPort(taken: number[]): Promise<number> {
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port)) continue;
    if (await portFree(port) && await portFree(port + 10_000)) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs redis-cli against one node and returns its output. */
export function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    // 'close', not 'exit': the process may exit before its stdout has been read to the end.
    child.once('close', () => resolve(out.trim()));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
