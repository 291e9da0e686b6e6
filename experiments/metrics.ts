/**
 * Pure functions turning raw receipts into the experiment's metrics. No I/O, so they are tested
 * with tables of hand-computed cases.
 *
 * Definitions (also printed in every report):
 * - snapshot age: receipt time at the client minus the server time in the snapshot (both epoch
 *   ms from one machine clock, since both namespaces share the kernel's clock).
 * - stall share: the measurement window is cut into intervals of one snapshot period. A gap of
 *   g ms between two consecutive *new* snapshots (id above every earlier one) covers
 *   round(g / period) intervals of which one delivered a snapshot; the rest are stalled.
 *   Rounding (not flooring) keeps ordinary timer jitter (a 56 ms gap at 50 ms) from counting as
 *   a stall. The window's start and end count as receipts.
 * - staleness: sampled every 10 ms, the age of the newest snapshot the client holds; this is
 *   what a player sees, and it charges lost datagrams as well as late ones.
 * - chat: each message sent by one bot must reach every other bot exactly once.
 */

import { mean, percentileOfSorted, sortedCopy } from '../tools/lib/stats.js';

/** A distribution as the experiment's outputs carry it (summary.json, CSV, report); NaN where empty. */
export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summary of a sample (tools/lib/stats.ts percentiles); NaN fields when there are no values. */
export function summarize(values: readonly number[]): Distribution {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  const q = (p: number) => percentileOfSorted(sorted, p) ?? Number.NaN;
  return { n, p50: q(50), p95: q(95), p99: q(99), max: n ? sorted[n - 1] : Number.NaN, mean: mean(sorted) ?? Number.NaN };
}

export interface StallResult {
  /** Snapshot periods in the window. */
  intervals: number;
  /** Periods in which no new snapshot arrived. */
  stalled: number;
}

/**
 * Stalled intervals for one client. `newSnapshotTimes` are receipt times of new snapshots (in
 * any order); the window [start, end] is the measurement period. A client that received nothing
 * stalled for the whole window.
 */
export function stalls(newSnapshotTimes: readonly number[], start: number, end: number, periodMs: number): StallResult {
  const intervals = Math.max(0, Math.round((end - start) / periodMs));
  const times = newSnapshotTimes.filter((t) => t >= start && t <= end).sort((a, b) => a - b);
  if (intervals === 0) return { intervals: 0, stalled: 0 };
  if (times.length === 0) return { intervals, stalled: intervals };
  // The window's ends act as virtual receipts, so a silent head or tail counts like any gap.
  let stalled = 0;
  let prev = start;
  for (const t of [...times, end]) {
    stalled += Math.max(0, Math.round((t - prev) / periodMs) - 1);
    prev = t;
  }
  return { intervals, stalled: Math.min(intervals, stalled) };
}

/**
 * Staleness of what one client holds: every `stepMs` through the window, the age of the newest
 * snapshot received so far (now - its server time). Unlike the per-receipt age, this charges a
 * lost datagram too: the view ages until the next snapshot arrives. `receipts` are
 * [server time, receipt time, snapshot id]; only receipts newer (by id) than what is held count.
 * Instants before the first receipt are skipped.
 */
export function stalenessSamples(
  receipts: ReadonlyArray<readonly [number, number, number]>,
  start: number,
  end: number,
  stepMs: number,
): number[] {
  const byReceipt = [...receipts].sort((a, b) => a[1] - b[1]);
  const out: number[] = [];
  let k = 0;
  let heldId = -Infinity;
  let heldTime = Number.NaN;
  for (let t = start; t <= end; t += stepMs) {
    while (k < byReceipt.length && byReceipt[k][1] <= t) {
      const [serverTime, , id] = byReceipt[k++];
      if (id > heldId) {
        heldId = id;
        heldTime = serverTime;
      }
    }
    if (Number.isFinite(heldTime)) out.push(t - heldTime);
  }
  return out;
}

/** One chat message as its sender recorded it. */
export interface ChatSent {
  key: string;
  sender: number;
  sentAt: number;
}

/** One chat message as a receiver recorded it. */
export interface ChatReceived {
  key: string;
  receiver: number;
  receivedAt: number;
}

export interface ChatResult {
  sent: number;
  /** sent x (bots - 1): every other bot must get each message. */
  expected: number;
  /** Distinct (message, receiver) pairs that arrived. */
  delivered: number;
  /** Expected pairs that never arrived. */
  lost: number;
  /** Arrivals beyond the first of the same (message, receiver). */
  duplicates: number;
  /** Arrivals of keys nobody sent (would mean corruption or a crossed run). */
  unknown: number;
  latency: Distribution;
}

/** Compare what was sent with what arrived, ignoring each sender's copy of its own lines. */
export function analyzeChat(sent: readonly ChatSent[], received: readonly ChatReceived[], bots: readonly number[]): ChatResult {
  const byKey = new Map(sent.map((s) => [s.key, s]));
  const seen = new Set<string>();
  let duplicates = 0;
  let unknown = 0;
  const latencies: number[] = [];
  for (const r of received) {
    const s = byKey.get(r.key);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.sender === r.receiver) continue;
    const pair = `${r.key}|${r.receiver}`;
    if (seen.has(pair)) {
      duplicates++;
      continue;
    }
    seen.add(pair);
    latencies.push(r.receivedAt - s.sentAt);
  }
  const receivers = new Set(bots);
  const expected = sent.reduce((n, s) => n + receivers.size - (receivers.has(s.sender) ? 1 : 0), 0);
  return {
    sent: sent.length,
    expected,
    delivered: seen.size,
    lost: expected - seen.size,
    duplicates,
    unknown,
    latency: summarize(latencies),
  };
}
