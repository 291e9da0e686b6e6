/** The soak's plan (flags, wave schedule) and verdict rules (memory windows, leftovers, checks). */
import { describe, expect, it } from 'vitest';
import { parsePlan, waveStarts } from '../../../bench/soak/plan.js';
import { refusalDelta, parseGauges, type AttackReport, type ServerSample } from '../../../bench/soak/samples.js';
import { attackCounters, checks, isQuiet, leftovers, ownChatCheck, summariseMemory, summariseProbes } from '../../../bench/soak/verdict.js';
import { UsageError } from '../../../tools/lib/args.js';

const MiB = 1048576;

function sample(t: number, rssMiB: number, heapMiB: number, extra: Partial<ServerSample> = {}): ServerSample {
  return {
    t, rssBytes: rssMiB * MiB, heapUsedBytes: heapMiB * MiB, heapTotalBytes: 0, heapCodeBytes: MiB, externalBytes: 0, arrayBuffersBytes: 0, gcForced: true,
    sessions: { total: 0, active: 0, suspended: 0, pending: 0 }, rooms: 1, roomPlayers: 0, gauges: {},
    webTransport: { connections: 0, sessions: 0, handshaking: 0, peerBytesHeld: 0, peerBytesPeak: 0, linkSimLost: 0, linkSimSent: 0 }, httpSockets: 0, refusals: [],
    ...extra,
  };
}

describe('soak plan', () => {
  it('schedules waves that end inside the play', () => {
    expect(waveStarts(1_800_000, 90_000, 180_000, 90_000)).toEqual(Array.from({ length: 10 }, (_, i) => 90_000 + i * 180_000));
    expect(waveStarts(60_000, 10_000, 30_000, 60_000)).toEqual([]);
  });

  it('defaults to 30 minutes of 12+12 bots with 5 % loss, and a smoke of ~18 s', () => {
    const full = parsePlan([]);
    expect(full).toMatchObject({ smoke: false, playMs: 1_800_000, botsPerTransport: 12, lossPct: 5, processPerAttack: true });
    expect(full.warmupMs).toBe(300_000);
    const smoke = parsePlan(['--smoke']);
    expect(smoke).toMatchObject({ smoke: true, botsPerTransport: 3, waves: [2_000], memoryWindowMs: 0, shortTimings: true });
    expect(smoke.playMs).toBeLessThanOrEqual(30_000);
    expect(parsePlan(['--minutes', '2', '--bots', '16']).botsPerTransport).toBe(16);
  });

  it('refuses flags that contradict each other', () => {
    expect(() => parsePlan(['--wave-every', '30', '--wave-seconds', '60'])).toThrow(UsageError);
    expect(() => parsePlan(['--attacks', 'nonsense'])).toThrow(UsageError);
  });
});

describe('soak verdict', () => {
  const w = { playStart: 0, playEnd: 600, warmupMs: 100, windowMs: 100, firstWaveAt: null };

  it('compares the median of the warm window with the last window, compiled code left out', () => {
    const samples = [sample(0, 100, 10), ...[100, 150, 199].map((t) => sample(t, 200, 21)), sample(300, 400, 80), ...[520, 560, 600].map((t) => sample(t, 210, 22))];
    const m = summariseMemory(samples, null, w);
    expect(m.warm).toEqual({ rssBytes: 200 * MiB, heapUsedBytes: 20 * MiB });
    expect(m.end).toEqual({ rssBytes: 210 * MiB, heapUsedBytes: 21 * MiB });
    expect(m.growthPct).toEqual({ rss: 5, heap: 5 });
    expect(m.peak.rssBytes).toBe(400 * MiB);
    expect(m.rssJudged).toBe(true);
  });

  it('in the smoke compares the last sample before the wave with the one after every client left', () => {
    const samples = [sample(0, 100, 10), sample(50, 110, 11), sample(150, 150, 30)];
    const m = summariseMemory(samples, sample(700, 140, 12), { ...w, windowMs: 0, firstWaveAt: 100 });
    expect(m.warm.heapUsedBytes).toBe(10 * MiB);
    expect(m.end.heapUsedBytes).toBe(11 * MiB);
    expect(m.growthPct.heap).toBe(10);
    expect(m.rssJudged).toBe(false);
    expect(checks({ memory: m, left: null, bots: null, probes: summariseProbes([]), attacks: [] }).find((c) => c.name === 'heap growth')?.ok).toBe(false);
  });

  it('finds anything the server still holds', () => {
    expect(isQuiet(leftovers(sample(0, 1, 1)))).toBe(true);
    const held = sample(0, 1, 1, { sessions: { total: 1, active: 0, suspended: 1, pending: 0 } });
    expect(leftovers(held).sessions).toBe(1);
    expect(isQuiet(leftovers(held))).toBe(false);
    expect(isQuiet(leftovers(sample(0, 1, 1, { httpSockets: 2 })))).toBe(false);
  });

  it('sums an attack\'s reports and names the expected counters that moved', () => {
    const reports: AttackReport[] = [
      { kind: 'a', startedAt: 0, endedAt: 1, sources: [], counts: { x: 2 }, notes: [] },
      { kind: 'a', startedAt: 2, endedAt: 3, sources: [], counts: { x: 3, y: 1 }, notes: ['n'] },
      { kind: 'b', startedAt: 0, endedAt: 1, sources: [], counts: { x: 9 }, notes: [] },
    ];
    const delta = refusalDelta([{ layer: 'game', reason: 'r1', count: 5 }], [{ layer: 'game', reason: 'r1', count: 7 }, { layer: 'quic', reason: 'r2', count: 0 }]);
    expect(delta).toEqual([{ layer: 'game', reason: 'r1', count: 2 }]);
    const c = attackCounters('a', 'what', ['game r1', 'quic r2'], reports, delta);
    expect(c).toMatchObject({ waves: 2, counts: { x: 5, y: 1 }, notes: ['n'], moved: ['game r1'] });
    const failed = checks({ memory: summariseMemory([sample(0, 1, 2)], sample(1, 1, 2), { ...w, windowMs: 0 }), left: null, bots: null, probes: summariseProbes([]), attacks: [c] });
    expect(failed.find((x) => x.name === 'attack a refused and counted')).toMatchObject({ ok: false, detail: 'did not move: quic r2' });
  });

  it('summarises probes and reads gauges from metrics text', () => {
    const p = summariseProbes([
      { t: 0, transport: 'websocket', ok: true, latencyMs: 10 },
      { t: 0, transport: 'webtransport', ok: true, latencyMs: 30 },
      { t: 0, transport: 'webtransport', ok: false, latencyMs: null, error: 'timeout' },
    ]);
    expect(p).toMatchObject({ count: 3, failures: 1, medianMs: 20, maxMs: 30, failureSamples: ['webtransport: timeout'] });
    expect(parseGauges('# HELP x\ntickwire_rooms 3\ntickwire_sessions{transport="ws"} 2\nother 1\n', ['tickwire_rooms', 'tickwire_sessions'])).toEqual({ tickwire_rooms: 3, 'tickwire_sessions{transport="ws"}': 2 });
  });

  it('own chat came back: every line the outbox took is echoed once unless given up; resends do not count twice; session_lost is the only slack', () => {
    const chat = { sent: 10, rejected: 1, sessionLost: 0, refusedForNow: 4, resent: 6, outboxFull: 0, ownEchoed: 9, received: 50, missing: 0, repeated: 0 };
    expect(ownChatCheck(chat).ok).toBe(true);
    expect(ownChatCheck(chat).detail).toBe('9 of 10 sent, 1 given up, 0 lost with a session, 6 resends, 4 refused for now, 0 refused (outbox full)');
    // A line lost without a final answer, or one shown twice, fails.
    expect(ownChatCheck({ ...chat, ownEchoed: 8 }).ok).toBe(false);
    expect(ownChatCheck({ ...chat, ownEchoed: 10 }).ok).toBe(false);
    // A line given up as session_lost may or may not have been shown.
    expect(ownChatCheck({ ...chat, sessionLost: 1, ownEchoed: 8 }).ok).toBe(true);
    expect(ownChatCheck({ ...chat, sessionLost: 1, ownEchoed: 9 }).ok).toBe(true);
    expect(ownChatCheck({ ...chat, sessionLost: 1, ownEchoed: 7 }).ok).toBe(false);
    expect(ownChatCheck({ ...chat, sent: 0, rejected: 0, ownEchoed: 0 }).ok).toBe(false);
  });
});
