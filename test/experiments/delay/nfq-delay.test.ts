/**
 * The delay stage's scheduler, exactly, through its --simulate mode: virtual packets arrive at a
 * fixed spacing and go through the same code that schedules real verdicts, in virtual time. No
 * root or netfilter needed; seeds make every figure repeatable. Plus its own argument checks.
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import type { StageStats } from '../../../experiments/delay/stage.js';
import { canBuildDelayStage } from './can-build.js';

const build = await canBuildDelayStage();

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function simulate(args: string[]): Promise<StageStats> {
  const r = await run(build.binary!, ['--simulate', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as StageStats;
}

describe.skipIf(!build.binary)('nfq-delay scheduler (--simulate)', () => {
  it('holds every packet exactly the delay without jitter', async () => {
    const s = await simulate(['20000', '--interval-us', '250', '--delay-ms', '50', '--seed', '1']);
    expect(s).toMatchObject({ received: 20_000, released: 20_000, droppedCap: 0, reordered: 0, held: 0 });
    expect(s.delayMs).toEqual({ mean: 50, sd: 0, min: 50, max: 50 });
    // 50 ms of packets 250 us apart are in flight at once (one more at the boundary).
    expect(s.heldMax).toBeGreaterThanOrEqual(200);
    expect(s.heldMax).toBeLessThanOrEqual(201);
  });

  it('order mode keeps order and the mean at the delay even when packets come far faster than the jitter', async () => {
    // 10 us apart with +/-10 ms jitter: "sample per packet, never overtake" would push nearly every
    // packet to the top of the range (mean ~60 ms). The delay process keeps the mean at 50.
    const s = await simulate(['400000', '--interval-us', '10', '--delay-ms', '50', '--jitter-ms', '10', '--seed', '7']);
    expect(s.reordered).toBe(0);
    expect(s.released).toBe(400_000);
    expect(Math.abs(s.delayMs.mean - 50)).toBeLessThan(0.75);
    expect(s.delayMs.min).toBeGreaterThanOrEqual(40);
    expect(s.delayMs.max).toBeLessThanOrEqual(60);
    // Uniform targets, slope-bounded moves: a parabolic density on D +/- J with sd J / sqrt(5).
    expect(s.delayMs.sd).toBeGreaterThan(0.9 * (10 / Math.sqrt(5)));
    expect(s.delayMs.sd).toBeLessThan(1.1 * (10 / Math.sqrt(5)));
  });

  it('order mode keeps order at game rates too, whatever the seed', async () => {
    for (const seed of ['1', '2', '3']) {
      const s = await simulate(['20000', '--interval-us', '2000', '--delay-ms', '100', '--jitter-ms', '30', '--jitter-dist', 'normal', '--seed', seed]);
      expect(s.reordered).toBe(0);
      expect(s.delayMs.min).toBeGreaterThanOrEqual(0);
    }
  });

  it('reorder mode is netem-style: independent uniform samples, so packets overtake each other', async () => {
    const s = await simulate(['100000', '--interval-us', '1000', '--delay-ms', '50', '--jitter-ms', '10', '--jitter-mode', 'reorder', '--seed', '7']);
    expect(s.reordered).toBeGreaterThan(10_000);
    expect(Math.abs(s.delayMs.mean - 50)).toBeLessThan(0.2);
    // Uniform on [-J, J]: sd = J / sqrt(3).
    expect(Math.abs(s.delayMs.sd - 10 / Math.sqrt(3))).toBeLessThan(0.1);
    expect(s.delayMs.min).toBeGreaterThanOrEqual(40);
    expect(s.delayMs.max).toBeLessThanOrEqual(60);
  });

  it('normal jitter has the configured standard deviation, clamped at zero delay', async () => {
    const s = await simulate(['100000', '--interval-us', '1000', '--delay-ms', '20', '--jitter-ms', '10', '--jitter-mode', 'reorder', '--jitter-dist', 'normal', '--seed', '9']);
    expect(Math.abs(s.delayMs.sd - 10)).toBeLessThan(1);
    expect(s.delayMs.min).toBe(0);
  });

  it('repeats itself for one seed and differs for another', async () => {
    const args = ['5000', '--interval-us', '500', '--delay-ms', '40', '--jitter-ms', '8'];
    const a = await simulate([...args, '--seed', '11']);
    const b = await simulate([...args, '--seed', '11']);
    const c = await simulate([...args, '--seed', '12']);
    expect(b.delayMs).toEqual(a.delayMs);
    expect(c.delayMs).not.toEqual(a.delayMs);
    expect(a.seed).toBe('11');
  });

  it('drops and counts what exceeds --max-held instead of letting it through undelayed', async () => {
    // 50 ms at 1 packet/ms needs ~50 slots; with 10, the rest are tail-dropped.
    const s = await simulate(['1000', '--interval-us', '1000', '--delay-ms', '50', '--max-held', '10', '--seed', '1']);
    expect(s.heldMax).toBe(10);
    expect(s.released + s.droppedCap).toBe(1000);
    expect(s.droppedCap).toBeGreaterThan(700);
    expect(s.delayMs.min).toBe(50);
  });

  const refusals: Array<[string, string[], RegExp]> = [
    ['jitter above the delay', ['--queue', '1', '--delay-ms', '5', '--jitter-ms', '6'], /--jitter-ms \(6\) must not exceed --delay-ms \(5\)/],
    ['a missing queue', ['--delay-ms', '5'], /--queue is required/],
    ['a missing delay', ['--queue', '1'], /--delay-ms is required/],
    ['a fractional queue', ['--queue', '1.5', '--delay-ms', '5'], /--queue wants a non-negative integer, got "1.5"/],
    ['a queue above 16 bits', ['--queue', '65536', '--delay-ms', '5'], /--queue must be within 0\.\.65535, got 65536/],
    ['a word for a delay', ['--queue', '1', '--delay-ms', 'fast'], /--delay-ms wants a number, got "fast"/],
    ['a delay above the cap', ['--queue', '1', '--delay-ms', '10001'], /--delay-ms must be within 0\.\.10000, got 10001/],
    ['an unknown jitter mode', ['--queue', '1', '--delay-ms', '5', '--jitter-mode', 'shuffle'], /--jitter-mode is order or reorder, got "shuffle"/],
    ['an unknown distribution', ['--queue', '1', '--delay-ms', '5', '--jitter-dist', 'pareto'], /--jitter-dist is uniform or normal, got "pareto"/],
    ['zero max held', ['--queue', '1', '--delay-ms', '5', '--max-held', '0'], /--max-held must be within 1\.\.1000000, got 0/],
    ['a negative seed', ['--queue', '1', '--delay-ms', '5', '--seed', '-3'], /--seed wants a non-negative integer, got "-3"/],
    ['an unknown option', ['--queue', '1', '--delay-ms', '5', '--speed', '3'], /unknown option --speed/],
    ['an option without a value', ['--queue', '1', '--delay-ms'], /--delay-ms needs a value/],
  ];
  for (const [what, args, msg] of refusals) {
    it(`refuses ${what} with exit 2 and a clear message`, async () => {
      const r = await run(build.binary!, args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(msg);
    });
  }
});
