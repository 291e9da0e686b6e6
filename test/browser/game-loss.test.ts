/**
 * Smooth under loss: with the server's link simulator dropping 5 % of UDP packets (both
 * directions), the other player's drawn motion in Chromium has no stall longer than two
 * snapshot intervals over 10 s, measured from window.tickwire's per-frame samples. The server
 * runs in this test process; a window in which its event loop froze for longer than two
 * intervals (a loaded shared machine) is measured again, up to MAX_WINDOWS times.
 */
import { describe, expect, it } from 'vitest';
import { launchChromium, openChromiumPlayer } from './game-drivers.js';
import {
  CHROMIUM_PATH, analyzeStalls, browserPresent, resultPath, useDemoGame, waitFor, waitJoined,
} from './game-harness.js';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const present = browserPresent(CHROMIUM_PATH);
/** Snapshot interval of the standard scene (20 Hz). */
const SNAPSHOT_INTERVAL_MS = 50;
const MEASURE_MS = 10_000;
/**
 * Measurement windows tried when a stall coincides with the server's own event loop freezing
 * (a loaded CI machine); a stall while the server ran smoothly fails at once.
 */
const MAX_WINDOWS = 3;

describe.skipIf(!present)('demo game under 5 % loss (Chromium, WebTransport)', () => {
  const fx = useDemoGame(launchChromium, { linkSim: 'loss=0.05' });

  it('shows no stall longer than two snapshot intervals over 10 s', async () => {
    // WebTransport forced: at 5 % loss a lost handshake packet can delay `ready` past the 1 s
    // fallback deadline, and this test is about datagrams.
    const mover = await openChromiumPlayer(fx, 'Mover', { query: { transport: 'webtransport' } });
    const watcher = await openChromiumPlayer(fx, 'Watcher', { query: { transport: 'webtransport' } });
    const tm = await waitJoined(mover, 2, 30_000);
    await waitJoined(watcher, 2, 30_000);
    expect((await watcher.tw())!.transport).toBe('webtransport');

    await mover.keyDown('ArrowRight');
    try {
      // Let the motion reach the watcher and the buffer settle, then measure.
      await new Promise((r) => setTimeout(r, 1500));
      let verdict: { ok: boolean; why: string } | null = null;
      for (let attempt = 1; attempt <= MAX_WINDOWS && !verdict?.ok; attempt++) {
        verdict = await measureWindow(attempt);
        // A stall while the server itself was frozen says nothing about the client: the test
        // machine is shared and the server runs in this test process. Measure again.
        if (!verdict.ok && !verdict.why.startsWith('server')) break;
      }
      expect(verdict?.why).toBe('ok');
    } finally {
      await mover.keyUp('ArrowRight');
    }

    async function measureWindow(attempt: number): Promise<{ ok: boolean; why: string }> {
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      const before = (await watcher.tw())!;
      await new Promise((r) => setTimeout(r, MEASURE_MS));
      const after = (await watcher.tw())!;
      lag.disable();
      const samples = await watcher.samplesSince(before.now);
      const report = analyzeStalls(samples, tm.ownEntityId!);
      const serverLagMaxMs = lag.max / 1e6;
      const summary = {
        attempt,
        ...report,
        snapshots: after.snapshotsReceived - before.snapshotsReceived,
        snapshotsLost: after.datagramsLost - before.datagramsLost,
        interpDelayMs: after.interpDelayMs,
        serverLagMaxMs,
      };
      writeFileSync(resultPath('game-loss-stalls.json'), JSON.stringify(summary, null, 2));
      console.log(JSON.stringify({ test: 'game-loss', ...summary }));
      // The link simulator really dropped snapshots, and the mover was drawn in every frame of
      // the whole window.
      expect(summary.snapshotsLost).toBeGreaterThan(0);
      expect(report.spanMs).toBeGreaterThan(MEASURE_MS * 0.9);
      expect(report.missingFrames).toBe(0);
      if (report.longestStallMs <= 2 * SNAPSHOT_INTERVAL_MS) return { ok: true, why: 'ok' };
      if (serverLagMaxMs > 2 * SNAPSHOT_INTERVAL_MS) {
        return { ok: false, why: `server event loop froze for ${serverLagMaxMs.toFixed(0)} ms (stall ${report.longestStallMs.toFixed(0)} ms)` };
      }
      return { ok: false, why: `stall of ${report.longestStallMs.toFixed(0)} ms with the server running smoothly` };
    }
    await waitFor('watcher still connected', async () => (await watcher.tw())?.connected);
  }, 150_000);
});
