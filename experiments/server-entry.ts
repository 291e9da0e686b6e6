/**
 * The server side of one experiment arm, run by the harness inside the server's namespace:
 *
 *   server-entry.ts --host 10.x.y.1 --http-port 8080 --wt-port 4433
 *                   --snapshot-channel unreliable|reliable --seed S [--truth FILE] [--static-dir DIR]
 *
 * Starts the standard-scene game server through the public embedding API (`createGameServer`)
 * with dev tickets on (the bots mint their own) and prints {"event":"ready","url":...}. Takes the
 * commands `mark` (start a load window) and `stats` (print {"event":"stats",...} for the window)
 * (tools/lib/child.ts protocol), and closes cleanly on SIGTERM.
 *
 * With --static-dir (the built demo page, client/dist) it serves the page, for the browser check.
 * With --truth, it also logs the ground truth for the rendered-position error: after every
 * simulation step between `mark` and `stats`, each player's position with the epoch time of the
 * step (the clock snapshots are stamped with), written to FILE as JSON when `stats` comes.
 */
import { flag, parseFlags } from '../tools/lib/args.js';
import { emit, fail, serveCommands } from '../tools/lib/child-entry.js';
import { createDevServer } from '../tools/lib/dev-server.js';
import { ProcessLoad } from '../tools/lib/process-load.js';
import { epochNow } from '../tools/lib/clock.js';
import { DEFAULT_DEV_ROOM, standardScene, type RoomContext } from '../server/index.js';
import { writeFileSync } from 'node:fs';
import { TRUTH_FIELDS, type TruthLog } from './types.js';

/**
 * Ground-truth values kept (TRUTH_FIELDS per row): 60 steps/s x 64 players x 10 min. A longer
 * window stops logging (counted in the file) rather than growing without bound.
 */
const TRUTH_VALUES_LIMIT = 60 * 64 * 600 * TRUTH_FIELDS;

const { values: args } = parseFlags(process.argv.slice(2), {
  host: flag.string(),
  'http-port': flag.int(0, 65_535),
  'wt-port': flag.int(0, 65_535),
  'snapshot-channel': flag.choice(['unreliable', 'reliable'] as const),
  seed: flag.int(0, 2 ** 32 - 1),
  truth: flag.string(),
  'static-dir': flag.string(),
});
const host = args.host ?? '127.0.0.1';
const httpPort = args['http-port'] ?? 8080;
const wtPort = args['wt-port'] ?? 4433;
const snapshotChannel = args['snapshot-channel'] ?? 'unreliable';
const seed = args.seed ?? 1;

let logging = false;
const truth: number[] = [];
let truthDropped = 0;

/** After each standard-scene step: every player's position at this instant. */
function logTruth(room: RoomContext): void {
  if (!logging) return;
  const t = epochNow();
  for (const p of room.players.values()) {
    if (truth.length + TRUTH_FIELDS > TRUTH_VALUES_LIMIT) {
      truthDropped++;
      continue;
    }
    truth.push(t, p.entity.id, p.entity.x, p.entity.y);
  }
}

async function main(): Promise<void> {
  const truthFile = args.truth;
  const rooms = truthFile
    ? {
        [DEFAULT_DEV_ROOM]: {
          onTick(room: RoomContext, dt: number) {
            standardScene.onTick!(room, dt);
            logTruth(room);
          },
        },
      }
    : undefined;
  const server = createDevServer({ host, httpPort, webTransportPort: wtPort, snapshotChannel, seed, rooms, staticDir: args['static-dir'] ?? null });
  const info = await server.listen();
  emit('ready', { url: info.httpUrl, webTransportUrl: info.webTransportUrl, snapshotChannel });

  let load = new ProcessLoad();
  serveCommands((c) => {
    if (c.cmd === 'mark') {
      load.stop();
      load = new ProcessLoad();
      logging = true;
    } else if (c.cmd === 'stats') {
      logging = false;
      if (truthFile) {
        const log: TruthLog = { fields: ['t', 'id', 'x', 'y'], values: truth, dropped: truthDropped };
        writeFileSync(truthFile, JSON.stringify(log));
      }
      const r = load.read();
      emit('stats', { loopDelayP99Ms: r.loopDelayP99Ms, cpuPerSec: r.cpuPerSec });
    }
  }, { onStop: () => server.close() });
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
