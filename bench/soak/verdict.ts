/**
 * What a soak's figures mean: memory growth between windows, what the server still held after
 * every client left, and the invariants the run must keep (exit 1 when one fails). Pure: the
 * harness (run.ts) collects the figures, this module judges them, a unit test pins the rules.
 */
import type { AttackReport, BotsReport, ProbeResult, RefusalTotal, ServerSample } from './samples.js';

/** Memory may grow at most this much (percent) from the warm window to the end window. */
export const MAX_GROWTH_PCT = 10;

/** One memory figure pair (bytes). */
export interface MemoryPoint {
  rssBytes: number;
  /** Heap in use after a full GC, compiled code left out (ServerSample.heapCodeBytes). */
  heapUsedBytes: number;
}

export interface MemorySummary {
  /** The first sample (before any client). */
  start: MemoryPoint;
  /** Median of the warm window (full soak), or the last sample before the first attack (smoke). */
  warm: MemoryPoint;
  /** Median of the last window of play (full soak), or the sample after every client left (smoke). */
  end: MemoryPoint;
  /** The sample after every client left (forced GC). */
  quiesced: MemoryPoint | null;
  /** Largest sample of the play. */
  peak: MemoryPoint;
  growthPct: { rss: number; heap: number };
  /** Whether RSS growth is judged (it is not in the smoke: RSS seldom shrinks after a burst). */
  rssJudged: boolean;
}

export interface MemoryWindows {
  /** Epoch ms when play began (every bot joined). */
  playStart: number;
  playEnd: number;
  warmupMs: number;
  /** 0: the smoke's rule (warm = before the first wave, end = after every client left). */
  windowMs: number;
  /** Epoch ms of the first attack wave (smoke rule), or null. */
  firstWaveAt: number | null;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The heap a leak would grow: what is in use after GC, less compiled code. */
function heapData(s: ServerSample): number {
  return s.heapUsedBytes - (s.heapCodeBytes ?? 0);
}

function point(samples: readonly ServerSample[]): MemoryPoint {
  return { rssBytes: median(samples.map((s) => s.rssBytes)), heapUsedBytes: median(samples.map(heapData)) };
}

function pct(from: number, to: number): number {
  return from > 0 ? Math.round(((to - from) / from) * 1000) / 10 : 0;
}

/** The memory summary of `samples` (in time order; at least one) and the quiesced sample. */
export function summariseMemory(samples: readonly ServerSample[], quiesced: ServerSample | null, w: MemoryWindows): MemorySummary {
  const start = point([samples[0]]);
  const play = samples.filter((s) => s.t >= w.playStart && s.t <= w.playEnd);
  const peak = {
    rssBytes: Math.max(...samples.map((s) => s.rssBytes)),
    heapUsedBytes: Math.max(...samples.map(heapData)),
  };
  let warm: MemoryPoint;
  let end: MemoryPoint;
  let rssJudged: boolean;
  if (w.windowMs > 0) {
    const from = w.playStart + w.warmupMs;
    const warmSamples = play.filter((s) => s.t >= from && s.t < from + w.windowMs);
    const endSamples = play.filter((s) => s.t > w.playEnd - w.windowMs);
    warm = point(warmSamples.length ? warmSamples : play.slice(0, 1));
    end = point(endSamples.length ? endSamples : play.slice(-1));
    rssJudged = true;
  } else {
    const before = play.filter((s) => w.firstWaveAt === null || s.t < w.firstWaveAt);
    warm = point((before.length ? before : play.length ? play : samples).slice(-1));
    end = quiesced ? point([quiesced]) : point(samples.slice(-1));
    rssJudged = false;
  }
  return {
    start,
    warm,
    end,
    quiesced: quiesced ? point([quiesced]) : null,
    peak,
    growthPct: { rss: pct(warm.rssBytes, end.rssBytes), heap: pct(warm.heapUsedBytes, end.heapUsedBytes) },
    rssJudged,
  };
}

/** What the server still held after every client left (all should be 0). */
export interface Leftovers {
  sessions: number;
  pendingHellos: number;
  roomPlayers: number;
  wtSessions: number;
  quicConnections: number;
  handshaking: number;
  httpSockets: number;
  peerBytesHeld: number;
}

export function leftovers(s: ServerSample): Leftovers {
  return {
    sessions: s.sessions.total,
    pendingHellos: s.sessions.pending,
    roomPlayers: s.roomPlayers,
    wtSessions: s.webTransport?.sessions ?? 0,
    quicConnections: s.webTransport?.connections ?? 0,
    handshaking: s.webTransport?.handshaking ?? 0,
    httpSockets: Math.max(0, s.httpSockets),
    peerBytesHeld: s.webTransport?.peerBytesHeld ?? 0,
  };
}

/** True when nothing is left. */
export function isQuiet(l: Leftovers): boolean {
  return Object.values(l).every((v) => v === 0);
}

/** Per attack kind: the refusal counters it is expected to move, and which of them did. */
export interface AttackCounters {
  kind: string;
  what: string;
  waves: number;
  /** The attack's own counts, summed over its waves. */
  counts: Record<string, number>;
  notes: string[];
  expected: string[];
  /** Expected counters that moved during the run (the server defended itself as designed). */
  moved: string[];
}

/** Sums the attack reports of `kind` and looks up its expected counters in `refusals` (run deltas). */
export function attackCounters(kind: string, what: string, expected: readonly string[], reports: readonly AttackReport[], refusals: readonly RefusalTotal[]): AttackCounters {
  const mine = reports.filter((r) => r.kind === kind);
  const counts: Record<string, number> = {};
  for (const r of mine) for (const [k, v] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + v;
  const movedSet = new Set(refusals.filter((r) => r.count > 0).map((r) => `${r.layer} ${r.reason}`));
  return {
    kind,
    what,
    waves: mine.length,
    counts,
    notes: mine.flatMap((r) => r.notes).slice(0, 10),
    expected: [...expected],
    moved: expected.filter((e) => movedSet.has(e)),
  };
}

export interface ProbeSummary {
  count: number;
  failures: number;
  /** Latencies (ms) of the successful probes: median, 95th percentile, max. */
  medianMs: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  failureSamples: string[];
}

export function summariseProbes(probes: readonly ProbeResult[]): ProbeSummary {
  const ok = probes.filter((p) => p.ok && p.latencyMs !== null).map((p) => p.latencyMs!).sort((a, b) => a - b);
  const q = (f: number) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor(f * ok.length))] : null);
  return {
    count: probes.length,
    failures: probes.filter((p) => !p.ok).length,
    medianMs: ok.length ? median(ok) : null,
    p95Ms: q(0.95),
    maxMs: ok.length ? ok[ok.length - 1] : null,
    failureSamples: probes.filter((p) => !p.ok).slice(0, 5).map((p) => `${p.transport}: ${p.error ?? '?'}`),
  };
}

/** One invariant and whether the run kept it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerdictInput {
  memory: MemorySummary;
  left: Leftovers | null;
  bots: BotsReport | null;
  probes: ProbeSummary;
  attacks: readonly AttackCounters[];
}

/**
 * Every line a bot's outbox took came back to it exactly once unless the outbox gave it up with
 * a final answer; a line given up as `session_lost` may or may not have been shown, so it is the
 * one slack. Resends (after a refusal for now, or on a resumed session) change nothing here:
 * a line counts once however often it went out, and a repeat would show as `chat repeated`.
 */
export function ownChatCheck(c: BotsReport['chat']): Check {
  const settled = c.sent - c.rejected - c.sessionLost;
  const ok = c.sent > 0 && c.ownEchoed >= settled && c.ownEchoed <= settled + c.sessionLost;
  return {
    name: 'own chat came back',
    ok,
    detail: `${c.ownEchoed} of ${c.sent} sent, ${c.rejected} given up, ${c.sessionLost} lost with a session, `
      + `${c.resent} resends, ${c.refusedForNow} refused for now, ${c.outboxFull} refused (outbox full)`,
  };
}

/** The invariants of a soak, in report order. */
export function checks(v: VerdictInput): Check[] {
  const out: Check[] = [];
  const m = v.memory;
  out.push({ name: 'heap growth', ok: m.growthPct.heap < MAX_GROWTH_PCT, detail: `${m.growthPct.heap} % (limit ${MAX_GROWTH_PCT} %)` });
  if (m.rssJudged) out.push({ name: 'RSS growth', ok: m.growthPct.rss < MAX_GROWTH_PCT, detail: `${m.growthPct.rss} % (limit ${MAX_GROWTH_PCT} %)` });
  out.push({
    name: 'nothing leaked',
    ok: v.left !== null && isQuiet(v.left),
    detail: v.left ? Object.entries(v.left).map(([k, n]) => `${k} ${n}`).join(', ') : 'no sample after the clients left',
  });
  const b = v.bots;
  out.push({ name: 'bots reported', ok: b !== null, detail: b ? `${b.bots} bots` : 'no report from the bots' });
  if (b) {
    out.push({ name: 'chat lost', ok: b.chat.missing === 0, detail: `${b.chat.missing} of ${b.chat.received} received` });
    out.push({ name: 'chat repeated', ok: b.chat.repeated === 0, detail: String(b.chat.repeated) });
    out.push(ownChatCheck(b.chat));
    out.push({ name: 'every bot joined', ok: b.initialJoinFailures === 0, detail: `${b.initialJoinFailures} failed` });
    out.push({ name: 'every reconnect resumed', ok: b.resumeFailures === 0 && b.drops > 0, detail: `${b.resumes} resumes after ${b.drops} drops, ${b.resumeFailures} new sessions${b.resumeFailureSamples.length ? `: ${b.resumeFailureSamples.slice(0, 3).join('; ')}` : ''}` });
    out.push({ name: 'every bot connected at the end', ok: b.connectedAtEnd === b.bots, detail: `${b.connectedAtEnd} of ${b.bots}` });
  }
  out.push({ name: 'honest joins during attacks', ok: v.probes.count > 0 && v.probes.failures === 0, detail: `${v.probes.count - v.probes.failures} of ${v.probes.count} probes joined${v.probes.failureSamples.length ? `: ${v.probes.failureSamples.join('; ')}` : ''}` });
  for (const a of v.attacks) {
    if (a.waves === 0) continue;
    const missing = a.expected.filter((e) => !a.moved.includes(e));
    out.push({ name: `attack ${a.kind} refused and counted`, ok: missing.length === 0, detail: missing.length ? `did not move: ${missing.join(', ')}` : a.moved.join(', ') });
  }
  return out;
}
