/**
 * Server process of bench/feeds.ts's `spectators` scenario: the standard scene (every room; the
 * dev ticket endpoint's room is `arena`) on 127.0.0.1 with OS-chosen ports and dev tickets, so
 * the load processes (bench/standard-scene/load-entry.ts, with and without `--spectate`) join it.
 * Over each measured window (the window commands of bench/standard-scene/window.ts) it reports
 * its CPU per wall second and what it sent, by session role: bytes per second (both channels,
 * from each connection's counters), sessions, and snapshot encodings done vs shared.
 */
import { standardScene } from '../server/rooms/standard-scene.js';
import type { SessionRole } from '../server/session/player-session.js';
import { emit } from '../tools/lib/child-entry.js';
import { createDevServer } from '../tools/lib/dev-server.js';
import { serveWindow } from './standard-scene/window.js';

/** Longest wait for the server to close when the harness stops this process. */
const SERVER_CLOSE_LIMIT_MS = 1_000;
/** Spectator seats: more than any run asks for. */
const MAX_SPECTATORS = 1024;

const server = createDevServer({
  host: '127.0.0.1',
  httpPort: 0,
  webTransportPort: 0,
  // As in the standard scene's server: joins on a busy box may take a while.
  timings: { helloTimeoutMs: 30_000 },
  defaultRoom: { ...standardScene, maxSpectators: MAX_SPECTATORS },
});
const address = await server.listen();

interface Sent {
  bytes: number;
  encoded: number;
  shared: number;
}

/** Per live session (role and player id): bytes sent and snapshot encodings so far. */
function perSession(): Map<string, { role: SessionRole; sent: Sent }> {
  const out = new Map<string, { role: SessionRole; sent: Sent }>();
  for (const s of server.sessions.list()) {
    const c = s.connectionStats();
    const e = s.snapshotStats();
    if (!c || !e) continue;
    out.set(`${s.role} ${s.playerId}`, {
      role: s.role,
      sent: { bytes: c.bytesSentReliable + c.bytesSentUnreliable, encoded: e.encoded, shared: e.shared },
    });
  }
  return out;
}

serveWindow<Map<string, { role: SessionRole; sent: Sent }>>({
  begin: () => perSession(),
  end(before, load) {
    const wallS = load.wallMs / 1000;
    const after = perSession();
    const byRole: Record<SessionRole, { sessions: number; bytes: number; encoded: number; shared: number }> = {
      player: { sessions: 0, bytes: 0, encoded: 0, shared: 0 },
      spectator: { sessions: 0, bytes: 0, encoded: 0, shared: 0 },
    };
    // Sessions there for the whole window only: a join or leave inside it would skew the rates.
    for (const [key, a] of after) {
      const b = before.get(key);
      if (!b) continue;
      const r = byRole[a.role];
      r.sessions++;
      r.bytes += a.sent.bytes - b.sent.bytes;
      r.encoded += a.sent.encoded - b.sent.encoded;
      r.shared += a.sent.shared - b.sent.shared;
    }
    const rates = (r: (typeof byRole)[SessionRole]) => ({
      sessions: r.sessions,
      bytesPerSec: Math.round(r.bytes / wallS),
      bytesPerSecPerSession: r.sessions ? Math.round(r.bytes / wallS / r.sessions) : null,
      encodesPerSec: +(r.encoded / wallS).toFixed(1),
      sharedPerSec: +(r.shared / wallS).toFixed(1),
    });
    return {
      wallS,
      cpuPerWallS: load.cpuPerSec,
      eventLoopUtilization: load.eventLoopUtilization,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      players: rates(byRole.player),
      spectators: rates(byRole.spectator),
    };
  },
  onStop: () => Promise.race([Promise.resolve(server.close()), new Promise((r) => setTimeout(r, SERVER_CLOSE_LIMIT_MS).unref())]),
});

emit('ready', { baseUrl: address.httpUrl });
