/**
 * Second node of the cross-process ownership race (lease.test.ts): connects to the Redis named
 * in argv, prints "ready", waits for one line naming the rooms, acquires them all at once and
 * prints the results as one JSON line, then releases nothing and exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager } from '../../../server/cluster/lease.js';
import { connectRedis } from '../../../server/cluster/redis.js';

const [url, nodeId] = process.argv.slice(2);
const redis = await connectRedis({ url });
const leases = new LeaseManager({ redis, keys: new ClusterKeys(), nodeId });
const lines = createInterface({ input: process.stdin });
console.log('ready');
for await (const line of lines) {
  const rooms = JSON.parse(line) as string[];
  const results = await Promise.all(rooms.map((room) => leases.acquire(room)));
  console.log(JSON.stringify(results.map((r) => (r.ok ? { ok: true, token: r.lease.token } : { ok: false, reason: r.reason }))));
}
await leases.close({ release: false });
await redis.close();
