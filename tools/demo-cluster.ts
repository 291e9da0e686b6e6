/**
 * `npm run demo:cluster`: a three-node tickwire cluster on this machine (docs/cluster.md).
 * Starts Debian's redis-server (persistence off, on a unix socket in a temp dir) and three
 * `npm start` nodes, node-1..3, on HTTP 8080/8081/8082 and WebTransport 4433/4434/4435, all with
 * one ticket secret. Open any node's page: the room runs on one node, the HUD names it; stop
 * that node (`kill -TERM <pid>`, printed below) and the players move to another. Ctrl-C stops all.
 *
 * Environment: TICKWIRE_DEMO_BASE_PORT (8080), TICKWIRE_DEMO_WT_BASE_PORT (4433).
 */
import { CleanupStack } from './lib/cleanup.js';
import { localOrigins, localTicketSecret, startLocalNode, startLocalRedis } from './lib/local-cluster.js';

const NODES = 3;

async function main(): Promise<void> {
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers(() => 'stopping the cluster');
  const httpBase = Number(process.env.TICKWIRE_DEMO_BASE_PORT || 8080);
  const wtBase = Number(process.env.TICKWIRE_DEMO_WT_BASE_PORT || 4433);
  const ports = Array.from({ length: NODES }, (_, i) => httpBase + i);
  const redis = await startLocalRedis(cleanup);
  console.log(`redis-server on ${redis.url} (persistence off)`);
  const secret = localTicketSecret();
  for (let i = 0; i < NODES; i++) {
    // The first node builds the client bundle when it is missing or stale; the others serve it.
    const node = await startLocalNode({
      redisUrl: redis.url, nodeId: `node-${i + 1}`, httpPort: ports[i], wtPort: wtBase + i,
      ticketSecret: secret, origins: localOrigins(ports), buildClient: i === 0, echo: true, cleanup, baseEnv: process.env,
    });
    console.log(`${node.nodeId}: ${node.httpUrl}/  (pid ${node.child.pid}; kill -TERM drains it, kill -KILL crashes it)`);
  }
  console.log(`cluster status: curl ${`http://127.0.0.1:${ports[0]}`}/api/cluster`);
  console.log('Ctrl-C stops the nodes and redis-server');
  await new Promise<never>(() => {});
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
