/**
 * The server side of one experiment arm, run by the harness inside the server's namespace:
 *
 *   server-entry.ts --host 10.x.y.1 --http-port 8080 --wt-port 4433
 *                   --snapshot-channel unreliable|reliable --seed S
 *
 * Starts the standard-scene game server through the public embedding API (`createGameServer`)
 * with dev tickets on (the bots mint their own) and prints {"event":"ready","url":...}. Takes the
 * commands `mark` (start a load window) and `stats` (print {"event":"stats",...} for the window)
 * (tools/lib/child.ts protocol), and closes cleanly on SIGTERM.
 */
import { flag, parseFlags } from '../tools/lib/args.js';
import { emit, fail, serveCommands } from '../tools/lib/child-entry.js';
import { createDevServer } from '../tools/lib/dev-server.js';
import { ProcessLoad } from '../tools/lib/process-load.js';

const { values: args } = parseFlags(process.argv.slice(2), {
  host: flag.string(),
  'http-port': flag.int(0, 65_535),
  'wt-port': flag.int(0, 65_535),
  'snapshot-channel': flag.choice(['unreliable', 'reliable'] as const),
  seed: flag.int(0, 2 ** 32 - 1),
});
const host = args.host ?? '127.0.0.1';
const httpPort = args['http-port'] ?? 8080;
const wtPort = args['wt-port'] ?? 4433;
const snapshotChannel = args['snapshot-channel'] ?? 'unreliable';
const seed = args.seed ?? 1;

async function main(): Promise<void> {
  const server = createDevServer({ host, httpPort, webTransportPort: wtPort, snapshotChannel, seed });
  const info = await server.listen();
  emit('ready', { url: info.httpUrl, webTransportUrl: info.webTransportUrl, snapshotChannel });

  let load = new ProcessLoad();
  serveCommands((c) => {
    if (c.cmd === 'mark') {
      load.stop();
      load = new ProcessLoad();
    } else if (c.cmd === 'stats') {
      const r = load.read();
      emit('stats', { loopDelayP99Ms: r.loopDelayP99Ms, cpuPerSec: r.cpuPerSec });
    }
  }, { onStop: () => server.close() });
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
