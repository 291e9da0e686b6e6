/**
 * A cluster on this machine (docs/cluster.md): a redis-server with persistence off on a unix
 * socket in a temp dir, marked fresh, and `npm start` nodes (server/main.ts, configured through
 * its TICKWIRE_* variables) on consecutive ports. Shared by `npm run demo:cluster` and
 * `npm run bench:cluster`; every process is registered with the caller's CleanupStack.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterKeys } from '../../server/cluster/keys.js';
import { LeaseManager } from '../../server/cluster/lease.js';
import { connectRedis } from '../../server/cluster/redis.js';
import { ToolChild } from './child.js';
import type { CleanupStack } from './cleanup.js';
import { spawnRedisServer, stopProcess } from './redis-server.js';

/** Longest a node may take from spawn to listening (it may build the client bundle first). */
export const NODE_START_TIMEOUT_MS = 120_000;

export interface LocalRedis {
  url: string;
  socketPath: string;
  stop(): Promise<void>;
}

/** redis-server for a local cluster, persistence off, already marked fresh (no restart grace). */
export async function startLocalRedis(cleanup: CleanupStack): Promise<LocalRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-cluster-redis-'));
  const socketPath = join(dir, 'redis.sock');
  const child = await spawnRedisServer({ dir, socketPath });
  const stop = async () => {
    await stopProcess(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  cleanup.push({ label: 'redis-server', run: stop, runSync: () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); } });
  const url = `unix://${socketPath}`;
  const redis = await connectRedis({ url });
  try {
    await LeaseManager.declareFresh(redis, new ClusterKeys());
  } finally {
    await redis.close();
  }
  return { url, socketPath, stop };
}

export interface LocalNodeOptions {
  redisUrl: string;
  nodeId: string;
  httpPort: number;
  wtPort: number;
  /** Shared by every node of the cluster. */
  ticketSecret: string;
  /** Web origins allowed to open sessions (every node's own, so the demo page works on any). */
  origins: readonly string[];
  buildClient?: boolean;
  /** The caller's environment (PATH and the like; only CLIs read it), and more TICKWIRE_* variables. */
  baseEnv: NodeJS.ProcessEnv;
  env?: Record<string, string>;
  echo?: boolean;
  cleanup: CleanupStack;
}

export interface LocalNode {
  nodeId: string;
  httpUrl: string;
  child: ToolChild;
}

/** Starts one `npm start` node and waits until it listens (and has joined the cluster). */
export async function startLocalNode(o: LocalNodeOptions): Promise<LocalNode> {
  const child = ToolChild.script('server/main.ts', [], {
    label: o.nodeId,
    echo: o.echo ?? false,
    cleanup: o.cleanup,
    env: {
      ...o.baseEnv,
      TICKWIRE_REDIS_URL: o.redisUrl,
      TICKWIRE_NODE_ID: o.nodeId,
      TICKWIRE_TICKET_SECRET: o.ticketSecret,
      TICKWIRE_HTTP_PORT: String(o.httpPort),
      TICKWIRE_WT_PORT: String(o.wtPort),
      TICKWIRE_ORIGINS: o.origins.join(','),
      TICKWIRE_BUILD_CLIENT: o.buildClient ? '1' : '0',
      ...o.env,
    },
  });
  const listening = await child.waitFor<{ event: string; http: string }>('listening', NODE_START_TIMEOUT_MS);
  return { nodeId: o.nodeId, httpUrl: listening.http, child };
}

/** A random ticket secret (hex) for one local cluster. */
export function localTicketSecret(): string {
  return randomBytes(32).toString('hex');
}

/** The origins a page served by any of these HTTP ports on this machine has. */
export function localOrigins(httpPorts: readonly number[]): string[] {
  return httpPorts.flatMap((p) => [`http://127.0.0.1:${p}`, `http://localhost:${p}`]);
}
