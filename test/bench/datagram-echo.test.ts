import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedCpus, cpuList } from '../../tools/lib/pin.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Bounds each bench run: start (tsx), 2 sessions connecting, 0.5 s warm-up, a 1 s window. */
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bench/datagram-echo.ts with `args` as `npm run bench:datagram` does (tsx). */
function bench(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/datagram-echo.ts', ...args], { cwd: ROOT, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function lines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const cpus = cpuList(allowedCpus('self')) ?? [];
const twoCpus = cpus.includes(0) && cpus.includes(1);

describe('bench:datagram --pin', () => {
  it('refuses a bad --pin string and a CPU the machine lacks with a usage error', async () => {
    const bad = await bench(['--pin', '0-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--pin needs SERVER:CLIENTS/);
    expect(bad.stderr).toMatch(/usage: npm run bench:datagram/);
    const missing = await bench(['--pin', '0:4095']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/CPU 4095 not available here/);
  }, RUN_TIMEOUT_MS * 2);

  // The reason when skipped: pinning to CPUs 0 and 1 needs both (CI has two).
  it.skipIf(!twoCpus)('runs the echo server on CPU 0, every thread, and the load child on CPU 1 (needs CPUs 0 and 1)', async () => {
    const r = await bench(['--pin', '0:1', '--sessions', '2', '--seconds', '1', '--only', 'wt']);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    const header = out.find((l) => l.header);
    expect(header?.pin).toEqual({ server: '0', clients: '1' });
    expect(header?.serverThreadCpus).toEqual(['0']);
    const wt = out.find((l) => l.transport === 'webtransport');
    expect(wt?.datagramsAtServer).toBeGreaterThan(0);
    // Read back from /proc during the window, after the QUIC endpoint and the load child started.
    expect(wt?.serverThreadCpus).toEqual(['0']);
    expect(wt?.loadThreadCpus).toEqual(['1']);
  }, RUN_TIMEOUT_MS);
});

describe('bench:datagram --layers', () => {
  it('echoes over our QUIC layer alone and over the bare binding beside WebTransport and UDP, and prints each layer against the UDP floor', async () => {
    const r = await bench(['--layers', '--sessions', '2', '--seconds', '1']);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    for (const transport of ['webtransport', 'quic-layer', 'bare-binding', 'udp', 'udp-same-rate']) {
      const line = out.find((l) => l.transport === transport);
      expect(line?.datagramsAtServer, transport).toBeGreaterThan(0);
    }
    // Raw QUIC: one UDP packet each way per echo (the datagram and the ACK of the last one), as
    // over WebTransport: the layers carry the same traffic.
    for (const transport of ['quic-layer', 'bare-binding']) {
      const line = out.find((l) => l.transport === transport)!;
      expect(line.packetsInPerDatagram, transport).toBeGreaterThanOrEqual(0.9);
      expect(line.packetsInPerDatagram, transport).toBeLessThan(1.5);
    }
    const ratio = out.find((l) => l.ratio);
    expect(ratio?.quicLayerUsPerDatagram).toBeGreaterThan(0);
    expect(ratio?.bareBindingUsPerDatagram).toBeGreaterThan(0);
    expect(ratio?.bareBindingRatio).toBeGreaterThan(0);
  }, RUN_TIMEOUT_MS);

  it('runs one layer alone with --only quic or --only bare (for profiling)', async () => {
    for (const only of ['quic', 'bare']) {
      const r = await bench(['--only', only, '--sessions', '2', '--seconds', '1']);
      expect(r.code, r.stderr).toBe(0);
      const transports = lines(r.stdout).filter((l) => l.transport).map((l) => l.transport);
      expect(transports).toEqual([only === 'quic' ? 'quic-layer' : 'bare-binding']);
    }
  }, RUN_TIMEOUT_MS * 2);
});
