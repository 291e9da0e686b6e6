/**
 * The namespace guard process (see guard.ts). Reads `watch`/`forget` lines on stdin; when stdin
 * ends, because the parent closed it or died, removes every topology still watched and exits.
 */
import { createInterface } from 'node:readline';
import { destroyTopology, type Topology } from '../netns.js';
import { parseGuardLine } from './guard.js';

/** Topologies watched at once; a run has one, tests a few. Beyond this, new ones are refused. */
const MAX_WATCHED = 64;

const watched = new Map<string, Topology>();

// Detached from the terminal's process group already; also ignore the signals a closing
// terminal or a stray Ctrl-C would send, so the guard always gets to do its job.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = parseGuardLine(line);
  if (!cmd) return;
  if (cmd.op === 'forget') watched.delete(cmd.prefix);
  else if (watched.size < MAX_WATCHED) watched.set(cmd.topology.prefix, cmd.topology);
  else process.stderr.write(`namespace guard: already watching ${MAX_WATCHED}; not watching ${cmd.topology.prefix}\n`);
});
rl.on('close', () => {
  void (async () => {
    for (const topo of watched.values()) {
      try {
        await destroyTopology(topo);
        process.stderr.write(`namespace guard: parent gone, removed ${topo.server.ns} and ${topo.client.ns}\n`);
      } catch (err) {
        process.stderr.write(`namespace guard: removing ${topo.prefix} failed: ${(err as Error).message}\n`);
      }
    }
    process.exit(0);
  })();
});
