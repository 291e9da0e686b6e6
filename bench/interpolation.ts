/**
 * How smooth does the demo's interpolation buffer keep a remote player under loss and jitter?
 * A deterministic simulation (seeded): the server sends a snapshot every 50 ms of a player
 * moving at 100 units/s (turning every 2 s), the network drops each with probability `loss`
 * and delays it by `baseMs` plus uniform jitter in [0, jitterMs] (so large jitter reorders),
 * and the client samples client/game/interpolation.ts at 60 frames/s, as the page does.
 *
 *   npx tsx bench/interpolation.ts            # prints one JSON line per condition
 *
 * Metrics per condition: delay p50/p95 (buffering delay), longest stall (time the drawn
 * position stood still), share of frames extrapolated past the newest snapshot, and the p99
 * distance between the drawn position and the true one at the rendered time.
 */
import { pathToFileURL } from 'node:url';
import { InterpolationBuffer, type InterpolationConfig } from '../client/game/interpolation.js';
import { shortDelta } from '../client/game/wrap.js';
import { seededRandom } from '../shared/random.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { percentile } from '../tools/lib/stats.js';

export interface SimCondition {
  loss: number;
  jitterMs: number;
  baseMs?: number;
  seconds?: number;
  seed?: number;
  /** Overrides of the buffer's configuration (to compare against the defaults). */
  buffer?: Partial<InterpolationConfig>;
}

export interface SimResult {
  loss: number;
  jitterMs: number;
  snapshotsSent: number;
  snapshotsLost: number;
  delayP50Ms: number;
  delayP95Ms: number;
  longestStallMs: number;
  extrapolatedShare: number;
  errorP99: number;
}

const SNAPSHOT_MS = 50;
const FRAME_MS = 1000 / 60;
const SPEED = 100 / 1000; // units per ms
const W = 1000;

/** Nearest-rank percentile (p in 0..100), 0 when there are no samples. */
function pct(xs: number[], p: number): number {
  return percentile(xs, p) ?? 0;
}

export function simulate(c: SimCondition): SimResult {
  const random = seededRandom(c.seed ?? 1);
  const seconds = c.seconds ?? 60;
  const base = c.baseMs ?? 20;
  const endMs = seconds * 1000;
  // The true path: piecewise straight, a new random heading every 2 s.
  const turns: Array<{ t: number; x: number; y: number; vx: number; vy: number }> = [];
  let x = 500;
  let y = 500;
  for (let t = 0; t <= endMs + 1000; t += 2000) {
    const a = random() * Math.PI * 2;
    turns.push({ t, x, y, vx: Math.cos(a) * SPEED, vy: Math.sin(a) * SPEED });
    x += Math.cos(a) * SPEED * 2000;
    y += Math.sin(a) * SPEED * 2000;
  }
  const truth = (t: number) => {
    const seg = turns[Math.min(turns.length - 1, Math.max(0, Math.floor(t / 2000)))];
    const dt = t - seg.t;
    return { x: (((seg.x + seg.vx * dt) % W) + W) % W, y: (((seg.y + seg.vy * dt) % W) + W) % W };
  };

  const arrivals: Array<{ at: number; serverTime: number }> = [];
  let sent = 0;
  let lost = 0;
  for (let s = 0; s <= endMs; s += SNAPSHOT_MS) {
    sent++;
    if (random() < c.loss) {
      lost++;
      continue;
    }
    arrivals.push({ at: s + base + random() * c.jitterMs, serverTime: s });
  }
  arrivals.sort((a, b) => a.at - b.at);

  const buf = new InterpolationBuffer({ snapshotIntervalMs: SNAPSHOT_MS, worldW: W, worldH: W, ...c.buffer });
  const delays: number[] = [];
  const errors: number[] = [];
  let next = 0;
  let frames = 0;
  let extrapolated = 0;
  let prev: { t: number; x: number; y: number } | null = null;
  let stillSince: number | null = null;
  let longest = 0;
  const warmupMs = 2000;
  for (let now = 0; now <= endMs; now += FRAME_MS) {
    while (next < arrivals.length && arrivals[next].at <= now) {
      const a = arrivals[next++];
      const p = truth(a.serverTime);
      buf.push(a.serverTime, [{ id: 1, x: p.x, y: p.y, angle: 0 }], a.at);
    }
    const [e] = buf.sample(now);
    if (!e || now < warmupMs) continue;
    frames++;
    if (e.extrapolated) extrapolated++;
    delays.push(buf.delayMs);
    // The rendered server time: local time minus the fastest transit (base) minus the delay.
    const want = truth(now - base - buf.delayMs);
    errors.push(Math.hypot(shortDelta(e.x, want.x, W), shortDelta(e.y, want.y, W)));
    if (prev) {
      const moved = Math.abs(e.x - prev.x) > 1e-9 || Math.abs(e.y - prev.y) > 1e-9;
      if (!moved) {
        stillSince ??= prev.t;
        longest = Math.max(longest, now - stillSince);
      } else {
        stillSince = null;
      }
    }
    prev = { t: now, x: e.x, y: e.y };
  }
  return {
    loss: c.loss,
    jitterMs: c.jitterMs,
    snapshotsSent: sent,
    snapshotsLost: lost,
    delayP50Ms: pct(delays, 50),
    delayP95Ms: pct(delays, 95),
    longestStallMs: longest,
    extrapolatedShare: frames > 0 ? extrapolated / frames : 0,
    errorP99: pct(errors, 99),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const jitterMs of [0, 10, 30, 80]) {
    for (const loss of [0, 0.01, 0.05, 0.1, 0.15, 0.25]) {
      const r = simulate({ loss, jitterMs, seconds: 120, seed: 42 });
      const round = (v: number) => Math.round(v * 100) / 100;
      writeJsonLine(Object.fromEntries(Object.entries({ bench: 'interpolation', ...r }).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])));
    }
  }
}
