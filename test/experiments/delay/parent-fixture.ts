/**
 * A stand-in for the experiment harness, for cleanup.test.ts: creates a topology, registers it
 * with the namespace guard and the cleanup stack (with Ctrl-C/SIGTERM handlers, as run.ts does),
 * applies 100 ms RTT and 1 % loss through the NFQUEUE stages, prints what it made as one JSON
 * line and waits to be killed.
 */
import { CleanupStack } from '../../../tools/lib/cleanup.js';
import { createTopology, destroyTopology, destroyTopologySync, netnsTag, newRunPrefix } from '../../../experiments/netns.js';
import { LinkShaper } from '../../../experiments/delay/conditions.js';
import { NamespaceGuard } from '../../../experiments/delay/guard.js';

const cleanup = new CleanupStack();
cleanup.installProcessHandlers();
const guard = NamespaceGuard.start();
const topo = await createTopology(newRunPrefix(netnsTag(process.env)));
guard.watch(topo);
cleanup.push({ label: `namespaces ${topo.prefix}`, run: () => destroyTopology(topo), runSync: () => destroyTopologySync(topo) });
const shaper = await LinkShaper.open(topo, { cleanup, mechanism: 'nfqueue' });
const applied = await shaper.apply({ rttMs: 100, lossPct: 1 });
process.stdout.write(`${JSON.stringify({ event: 'ready', topo, stagePids: applied.stages.map((s) => s.pid), guardPid: guard.pid })}\n`);
// Keep running until killed; bounded so a test that forgets us cannot leave us forever.
setTimeout(() => process.exit(1), 120_000);
