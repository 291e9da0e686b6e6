import { describe, expect, it } from 'vitest';
import { ProcessLoad } from '../../../tools/lib/process-load.js';

describe('ProcessLoad', () => {
  it('reports the window: CPU per second, loop delay, utilisation, all well-formed', async () => {
    const load = new ProcessLoad(1);
    const until = performance.now() + 30;
    while (performance.now() < until) {
      // Busy: the window must show CPU used.
    }
    await new Promise((r) => setTimeout(r, 20));
    const r = load.stop();
    expect(r.wallMs).toBeGreaterThanOrEqual(50);
    expect(r.cpuPerSec).toBeGreaterThan(0);
    expect(r.eventLoopUtilization).toBeGreaterThan(0);
    expect(r.eventLoopUtilization).toBeLessThanOrEqual(1);
    expect(Number.isFinite(r.loopDelayP99Ms)).toBe(true);
    expect(r.loopDelayP99Ms).toBeGreaterThan(0);
    // Reading after stop still works (the window is over, the numbers stay).
    expect(load.stop().cpuPerSec).toBeGreaterThan(0);
  });
});
