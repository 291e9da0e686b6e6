import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../shared/codec.js';
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../../../shared/limits.js';
import { SNAPSHOT_MESSAGE_ID } from '../../../shared/messages.js';
import {
  ANGLE_BITS, POSITION_STEP, PriorityAccumulator, STANDARD_FORMAT, SnapshotHistory, decodeSnapshot, decodeSnapshotBody,
  encodeSnapshot, entitiesPerSnapshot, FORCE_AFTER, refreshBound, snapshotFormat, withLastInputSeq,
  type DecodedSnapshot, type EntityState, type SnapshotEncodeResult, type SnapshotView,
} from '../../../shared/snapshot/index.js';
import { Scene, rng } from './scene.js';

type EncodedOk = Extract<SnapshotEncodeResult, { ok: true }>;
const POS_ERR = POSITION_STEP / 2 + 1e-9;
const ANGLE_ERR = Math.PI / 2 ** ANGLE_BITS + 1e-9;
const angleDiff = (a: number, b: number) => Math.abs(((((a - b) % (2 * Math.PI)) + 3 * Math.PI) % (2 * Math.PI)) - Math.PI);
const none = () => undefined;

function expectClose(got: EntityState, want: EntityState): void {
  expect(got.id).toBe(want.id);
  expect(Math.abs(got.x - want.x), `x of ${want.id}`).toBeLessThanOrEqual(POS_ERR);
  expect(Math.abs(got.y - want.y), `y of ${want.id}`).toBeLessThanOrEqual(POS_ERR);
  expect(angleDiff(got.angle, want.angle), `angle of ${want.id}`).toBeLessThanOrEqual(ANGLE_ERR);
}
function viewOf(v: SnapshotView) {
  return { id: v.id, ids: [...v.ids.subarray(0, v.count)], qx: [...v.qx.subarray(0, v.count)], qy: [...v.qy.subarray(0, v.count)], qa: [...v.qa.subarray(0, v.count)] };
}
function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok: ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}

const three: EntityState[] = [
  { id: 1, x: 10, y: 20, angle: 0.5 },
  { id: 2, x: 500.3, y: 999.9, angle: -3 },
  { id: 7, x: 0, y: 1000, angle: Math.PI },
];

describe('snapshot codec: basics', () => {
  it('full snapshot round-trips within the quantization error, with its header', () => {
    const r = ok(encodeSnapshot({ snapshotId: 5, serverTick: 123456, serverTime: 2 ** 32 + 17.9, lastInputSeq: 99, entities: three }, 1200));
    expect(r.bytes[0]).toBe(SNAPSHOT_MESSAGE_ID);
    expect(r.baselineId).toBe(0);
    expect(r.complete).toBe(true);
    const d = ok(decodeSnapshot(r.bytes, none)).snapshot;
    expect(d).toMatchObject({ id: 5, baselineId: 0, serverTick: 123456, serverTime: 17, lastInputSeq: 99, omitted: [] });
    expect(d.entities).toHaveLength(3);
    d.entities.forEach((e, i) => expectClose(e, three[i]));
    expect(viewOf(d)).toEqual(viewOf(r.view));
  });

  it('goes through decodeMessage as an unreliable s2c message', () => {
    const r = ok(encodeSnapshot({ snapshotId: 1, serverTick: 1, serverTime: 1, lastInputSeq: 0, entities: three }, 1200));
    const m = decodeMessage(r.bytes, { channel: 'unreliable', direction: 's2c' });
    expect(m.ok && m.name).toBe('snapshot');
    if (m.ok && m.name === 'snapshot') expect(ok(decodeSnapshotBody(m.body, none)).snapshot.count).toBe(3);
  });

  it('delta against a baseline: unchanged, short delta, long delta, angle change, leave and enter', () => {
    const first = ok(encodeSnapshot({ snapshotId: 10, serverTick: 30, serverTime: 500, lastInputSeq: 1, entities: three }, 1200));
    const next: EntityState[] = [
      { id: 1, x: 10, y: 20, angle: 0.5 }, // unchanged
      { id: 2, x: 505, y: 995, angle: -3 }, // short delta
      // id 7 left
      { id: 8, x: 1, y: 2, angle: 1 }, // entered, consecutive after 7? no: first entered id
      { id: 9, x: 3, y: 4, angle: 1 }, // consecutive entered id
      { id: 300, x: 900, y: 100, angle: 2 }, // sparse entered id
    ];
    const moved = [...next];
    moved.splice(1, 1, { id: 2, x: 100, y: 100, angle: 1 }); // long delta + angle
    for (const set of [next, moved]) {
      const r = ok(encodeSnapshot({ snapshotId: 12, serverTick: 36, serverTime: 600, lastInputSeq: 2, entities: set, baseline: first.view }, 1200));
      expect(r.baselineId).toBe(10);
      const d = ok(decodeSnapshot(r.bytes, (id) => (id === 10 ? first.view : undefined))).snapshot;
      expect(d.baselineId).toBe(10);
      expect(d.entities.map((e) => e.id)).toEqual([1, 2, 8, 9, 300]);
      d.entities.forEach((e, i) => expectClose(e, set[i]));
      expect(viewOf(d)).toEqual(viewOf(r.view));
    }
    // The delta is much smaller than a full snapshot of the same set.
    const full = ok(encodeSnapshot({ snapshotId: 12, serverTick: 36, serverTime: 600, lastInputSeq: 2, entities: next }, 1200));
    const delta = ok(encodeSnapshot({ snapshotId: 12, serverTick: 36, serverTime: 600, lastInputSeq: 2, entities: next, baseline: first.view }, 1200));
    expect(delta.bytes.length).toBeLessThanOrEqual(full.bytes.length);
  });

  it('results own their memory: later encodings (bigger, smaller, budget-bound) leave earlier bytes and views intact', () => {
    const scene = new Scene({ players: 600, seed: 7 });
    const first = scene.entities();
    const big = ok(encodeSnapshot({ snapshotId: 5, serverTick: 15, serverTime: 250, lastInputSeq: 1, entities: first }, 1199));
    const bytes = [...big.bytes];
    const view = viewOf(big.view);
    const heldAge = [...big.view.heldAge!];
    // Same working arrays reused: a smaller set, a budget-bound delta, then a cell schedule.
    ok(encodeSnapshot({ snapshotId: 6, serverTick: 18, serverTime: 300, lastInputSeq: 2, entities: three }, 1199));
    scene.advance();
    ok(encodeSnapshot({ snapshotId: 7, serverTick: 21, serverTime: 350, lastInputSeq: 3, entities: scene.entities(), baseline: big.view }, 300));
    ok(encodeSnapshot({
      snapshotId: 8, serverTick: 24, serverTime: 400, lastInputSeq: 4, entities: scene.entities(), baseline: big.view,
      cell: { x0: 0, y0: 0, x1: 250, y1: 250 }, scheduleAfter: 100,
    }, 400));
    expect([...big.bytes]).toEqual(bytes);
    expect(viewOf(big.view)).toEqual(view);
    expect([...big.view.heldAge!]).toEqual(heldAge);
    // And the same input still encodes to the same bytes.
    const again = ok(encodeSnapshot({ snapshotId: 5, serverTick: 15, serverTime: 250, lastInputSeq: 1, entities: first }, 1199));
    expect([...again.bytes]).toEqual(bytes);
  });

  it('an unchanged world costs about two bits per entity', () => {
    const scene = new Scene({ players: 64, seed: 3 });
    const a = ok(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: scene.entities() }, 1200));
    const b = ok(encodeSnapshot({ snapshotId: 2, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: scene.entities(), baseline: a.view }, 1200));
    expect(b.bytes.length).toBeLessThanOrEqual(5 + 14 + Math.ceil((64 * 3 + 1) / 8));
  });

  it('unknown baseline is a result, not an exception', () => {
    const a = ok(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, 1200));
    const b = ok(encodeSnapshot({ snapshotId: 2, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three, baseline: a.view }, 1200));
    expect(decodeSnapshot(b.bytes, none)).toEqual({ ok: false, reason: 'unknown_baseline', detail: expect.any(String), baselineId: 1 });
    // A lookup that returns a different snapshot is also unknown.
    expect(decodeSnapshot(b.bytes, () => ({ ...a.view, id: 9 }))).toMatchObject({ ok: false, reason: 'unknown_baseline' });
    // A lookup that throws is contained.
    expect(decodeSnapshot(b.bytes, () => { throw new Error('boom'); })).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('skips invalid and repeated entity ids and counts them', () => {
    const r = ok(encodeSnapshot({
      snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0,
      entities: [...three, { id: 1, x: 0, y: 0, angle: 0 }, { id: 70000, x: 0, y: 0, angle: 0 }, { id: -1, x: 0, y: 0, angle: 0 }, { id: 1.5, x: 0, y: 0, angle: 0 }],
    }, 1200));
    expect(r.skipped).toBe(4);
    expect(r.sent).toEqual([1, 2, 7]);
    expectClose(ok(decodeSnapshot(r.bytes, none)).snapshot.entities[0], three[0]);
  });

  it('refuses a bad snapshot id or a budget below the header, without throwing', () => {
    expect(encodeSnapshot({ snapshotId: 0, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, 1200)).toMatchObject({ ok: false, reason: 'bad_snapshot_id' });
    expect(encodeSnapshot({ snapshotId: 2 ** 32, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, 1200)).toMatchObject({ ok: false, reason: 'bad_snapshot_id' });
    expect(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, 10)).toMatchObject({ ok: false, reason: 'budget_too_small' });
    expect(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, Number.NaN)).toMatchObject({ ok: false, reason: 'budget_too_small' });
  });

  it('uses the world size it is given (format from welcome)', () => {
    const fmt = snapshotFormat(4000, 300);
    const ents = [{ id: 3, x: 3999.9, y: 299.8, angle: 0 }];
    const r = ok(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: ents, format: fmt }, 1200));
    expectClose(ok(decodeSnapshot(r.bytes, none, fmt)).snapshot.entities[0], ents[0]);
  });

  it('a baseline that is not an earlier snapshot (same id, or "newer" by wrap) is ignored: full snapshot', () => {
    const a = ok(encodeSnapshot({ snapshotId: 7, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, 1200));
    const same = ok(encodeSnapshot({ snapshotId: 7, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three, baseline: a.view }, 1200));
    expect(same.baselineId).toBe(0);
    expect(decodeSnapshot(same.bytes, none).ok).toBe(true);
    expect(ok(encodeSnapshot({ snapshotId: 8, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three, baseline: a.view }, 1200)).baselineId).toBe(7);
    const c = ok(encodeSnapshot({ snapshotId: 6, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three, baseline: a.view }, 1200));
    expect(c.baselineId).toBe(0);
  });

  it('snapshot ids wrap: a baseline just below 2^32 works for a snapshot just above 0', () => {
    const a = ok(encodeSnapshot({ snapshotId: 2 ** 32 - 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three }, 1200));
    const b = ok(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: three, baseline: a.view }, 1200));
    expect(b.baselineId).toBe(2 ** 32 - 1);
    expect(ok(decodeSnapshot(b.bytes, (id) => (id === a.view.id ? a.view : undefined))).snapshot.count).toBe(3);
  });
});

describe('snapshot codec: budget and priority', () => {
  it('never exceeds the budget, and the viewer always goes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 60, max: 1400 }), fc.integer(), (players, budget, seed) => {
      const scene = new Scene({ players, seed, churn: 0.01, teleport: 0.05 });
      const acc = new PriorityAccumulator();
      let base: SnapshotView | null = null;
      for (let s = 1; s <= 4; s++) {
        scene.advance();
        const r: EncodedOk = ok(encodeSnapshot({ snapshotId: s, serverTick: s, serverTime: s, lastInputSeq: s, entities: scene.entities(), baseline: base, viewerId: scene.viewerId, priority: acc }, budget));
        expect(r.bytes.length).toBeLessThanOrEqual(Math.min(budget, MAX_UNRELIABLE_MESSAGE_BYTES));
        if (budget >= 200 && players <= 100) expect(r.sent).toContain(scene.viewerId);
        const d = ok(decodeSnapshot(r.bytes, (id) => (base && base.id === id ? base : undefined))).snapshot;
        expect(viewOf(d)).toEqual(viewOf(r.view));
        base = r.view;
      }
    }), { numRuns: 60 });
  });

  it('starvation is bounded: 512 players in 1024 bytes, every entity refreshed within the bound', () => {
    const players = 512;
    const budget = 1024;
    const scene = new Scene({ players, seed: 11 });
    const acc = new PriorityAccumulator();
    const history = new SnapshotHistory();
    const lastSent = new Map<number, number>();
    const bound = FORCE_AFTER + Math.ceil((players - 1) / entitiesPerSnapshot(STANDARD_FORMAT, budget, players - 1));
    let worstGap = 0;
    let incomplete = 0;
    for (let s = 1; s <= 120; s++) {
      scene.advance();
      // The client acks the previous snapshot (no loss): the usual steady state.
      const r = ok(encodeSnapshot({ snapshotId: s, serverTick: s, serverTime: s, lastInputSeq: 0, entities: scene.entities(), baseline: history.get(s - 1) ?? null, viewerId: scene.viewerId, priority: acc }, budget));
      history.put(r.view);
      expect(r.bytes.length).toBeLessThanOrEqual(budget);
      expect(r.sent[0] === scene.viewerId || r.sent.includes(scene.viewerId)).toBe(true);
      if (!r.complete) incomplete++;
      for (const id of r.sent) {
        if (lastSent.has(id)) worstGap = Math.max(worstGap, s - lastSent.get(id)!);
        lastSent.set(id, s);
      }
      for (const e of scene.entities()) {
        expect(s - (lastSent.get(e.id) ?? 0), `entity ${e.id} at snapshot ${s}`).toBeLessThanOrEqual(bound);
      }
    }
    expect(incomplete).toBeGreaterThan(100); // the budget really was binding
    expect(worstGap).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThanOrEqual(9);
  });

  it('property: the refresh bound holds for any player count, budget and ack pattern', () => {
    fc.assert(fc.property(
      fc.integer({ min: 20, max: 700 }), fc.integer({ min: 300, max: 1200 }), fc.integer(),
      fc.double({ min: 0, max: 0.6, noNaN: true }), fc.integer({ min: 1, max: 4 }),
      (players, budget, seed, ackLoss, lag) => {
        const scene = new Scene({ players, seed, teleport: 0.05, idle: 0.2 });
        const r = rng(seed);
        const acc = new PriorityAccumulator();
        const history = new SnapshotHistory();
        const visible = scene.entities().length - 1;
        const bound = refreshBound(STANDARD_FORMAT, budget, visible);
        fc.pre(Number.isFinite(bound));
        const lastSent = new Map<number, number>();
        let acked = 0;
        for (let s = 1; s <= 40; s++) {
          scene.advance();
          if (s > lag && r() >= ackLoss) acked = s - lag;
          const res = ok(encodeSnapshot({ snapshotId: s, serverTick: s, serverTime: s, lastInputSeq: 0, entities: scene.entities(), baseline: acked ? history.get(acked) ?? null : null, viewerId: scene.viewerId, priority: acc }, budget));
          history.put(res.view);
          expect(res.sent).toContain(scene.viewerId);
          for (const id of res.sent) lastSent.set(id, s);
          for (const e of scene.entities()) expect(s - (lastSent.get(e.id) ?? 0), `entity ${e.id} at ${s}, bound ${bound}`).toBeLessThan(bound + 1);
        }
      },
    ), { numRuns: 25 });
  });

  it('nearby entities are refreshed more often than far ones', () => {
    const ents: EntityState[] = [{ id: 0, x: 500, y: 500, angle: 0 }];
    for (let i = 1; i <= 400; i++) ents.push({ id: i, x: i <= 40 ? 500 + (i % 20) : 50 + (i % 10), y: i <= 40 ? 510 : 50 + i, angle: 0 });
    const acc = new PriorityAccumulator();
    const sends = new Map<number, number>();
    let base: SnapshotView | null = null;
    for (let s = 1; s <= 60; s++) {
      const moved = ents.map((e) => ({ ...e, x: e.x + (s % 2), angle: (s + e.id) % 6 })); // everyone changes every time
      const r: EncodedOk = ok(encodeSnapshot({ snapshotId: s, serverTick: s, serverTime: 0, lastInputSeq: 0, entities: moved, baseline: base, viewerId: 0, priority: acc }, 700));
      base = r.view;
      for (const id of r.sent) sends.set(id, (sends.get(id) ?? 0) + 1);
    }
    const avg = (ids: number[]) => ids.reduce((s, id) => s + (sends.get(id) ?? 0), 0) / ids.length;
    const near = avg(Array.from({ length: 40 }, (_, i) => i + 1));
    const far = avg(Array.from({ length: 360 }, (_, i) => i + 41));
    expect(sends.get(0)).toBe(60);
    expect(near, `near ${near} far ${far}`).toBeGreaterThan(far * 1.3);
    expect(far).toBeGreaterThan(0);
  });

  it('sharing: clients with the same complete baseline get the same bytes but their own input seq', () => {
    const scene = new Scene({ players: 40, seed: 5 });
    const a = ok(encodeSnapshot({ snapshotId: 1, serverTick: 1, serverTime: 1, lastInputSeq: 0, entities: scene.entities() }, 1200));
    scene.advance();
    const forA = ok(encodeSnapshot({ snapshotId: 2, serverTick: 2, serverTime: 2, lastInputSeq: 17, entities: scene.entities(), baseline: a.view, viewerId: 0, priority: new PriorityAccumulator() }, 1200));
    const forB = ok(encodeSnapshot({ snapshotId: 2, serverTick: 2, serverTime: 2, lastInputSeq: 99, entities: scene.entities(), baseline: a.view, viewerId: 5, priority: new PriorityAccumulator() }, 1200));
    expect(forA.complete && forB.complete && a.view.complete).toBe(true);
    expect(forB.bytes.subarray(5)).toEqual(forA.bytes.subarray(5));
    const stamped = withLastInputSeq(forA.bytes, 99);
    expect(stamped).toEqual(forB.bytes);
    expect(forA.bytes[4]).toBe(17); // the original is not modified
    expect(ok(decodeSnapshot(stamped, () => a.view)).snapshot.lastInputSeq).toBe(99);
  });
});

/** Client and server of one connection, with a lossy, delaying, duplicating channel both ways. */
function runConnection(p: {
  seed: number; players: number; steps: number; budget: number; lossDown: number; lossUp: number;
  maxDelay: number; dup: number; churn: number; teleport: number; idle: number;
}) {
  const r = rng(p.seed ^ 0x5eed);
  const scene = new Scene({ players: p.players, seed: p.seed, churn: p.churn, teleport: p.teleport, idle: p.idle, turn: 0.3 });
  const serverHistory = new SnapshotHistory();
  const acc = new PriorityAccumulator();
  const truth = new Map<number, Map<number, EntityState>>();
  const sentViews = new Map<number, SnapshotView>();
  const clientHistory = new SnapshotHistory<DecodedSnapshot>();
  let serverAck = 0;
  let clientNewest = 0;
  let newestDecoded: DecodedSnapshot | undefined;
  const down: { at: number; bytes: Uint8Array }[] = [];
  const up: { at: number; ack: number }[] = [];
  let decoded = 0;
  let budget = p.budget;

  const step = (s: number, lossDown: number, lossUp: number) => {
    scene.advance();
    const ents = scene.entities();
    truth.set(s, new Map(ents.map((e) => [e.id, e])));
    const base = serverAck ? serverHistory.get(serverAck) ?? null : null;
    const res = ok(encodeSnapshot({ snapshotId: s, serverTick: s * 3, serverTime: s * 50, lastInputSeq: s, entities: ents, baseline: base, viewerId: scene.viewerId, priority: acc }, budget));
    expect(res.bytes.length).toBeLessThanOrEqual(budget);
    serverHistory.put(res.view);
    sentViews.set(s, res.view);
    if (r() >= lossDown) {
      const copies = r() < p.dup ? 2 : 1;
      for (let c = 0; c < copies; c++) down.push({ at: s + Math.floor(r() * (p.maxDelay + 1)), bytes: res.bytes });
    }
    // Client: everything due by now, in a shuffled order (reordering).
    const due = down.filter((d) => d.at <= s).sort(() => r() - 0.5);
    for (const d of due) down.splice(down.indexOf(d), 1);
    for (const d of due) {
      const result = decodeSnapshot(d.bytes, (id) => clientHistory.get(id));
      const snap = ok(result).snapshot;
      decoded++;
      const serverView = sentViews.get(snap.id)!;
      expect(viewOf(snap)).toEqual(viewOf(serverView));
      const t = truth.get(snap.id)!;
      const omitted = new Set(snap.omitted);
      for (const e of snap.entities) {
        expect(t.has(e.id), `entity ${e.id} is in the world at ${snap.id}`).toBe(true);
        if (!omitted.has(e.id)) expectClose(e, t.get(e.id)!);
      }
      if (serverView.complete) expect(snap.entities.map((e) => e.id)).toEqual([...t.keys()].sort((a, b) => a - b));
      expect(snap.lastInputSeq).toBe(snap.id);
      clientHistory.put(snap);
      if (snap.id > clientNewest) {
        clientNewest = snap.id;
        newestDecoded = snap;
      }
    }
    if (clientNewest && r() >= lossUp) up.push({ at: s + Math.floor(r() * (p.maxDelay + 1)), ack: clientNewest });
    for (const u of up.filter((x) => x.at <= s)) {
      up.splice(up.indexOf(u), 1);
      serverAck = Math.max(serverAck, u.ack);
    }
  };

  let s = 1;
  for (; s <= p.steps; s++) step(s, p.lossDown, p.lossUp);
  // Heal: no loss, room in the datagram. The client must end up with the server state.
  budget = MAX_UNRELIABLE_MESSAGE_BYTES;
  const healUntil = s + 8 + 2 * p.maxDelay;
  for (; s <= healUntil; s++) step(s, 0, 0);
  return { decoded, newestDecoded: newestDecoded!, truth, clientNewest };
}

describe('snapshot codec: random worlds over a lossy link', () => {
  it('the client reconstructs the server state within the quantization error', () => {
    fc.assert(fc.property(fc.record({
      seed: fc.integer(), players: fc.integer({ min: 1, max: 80 }), steps: fc.integer({ min: 5, max: 60 }),
      budget: fc.integer({ min: 80, max: 1200 }), lossDown: fc.double({ min: 0, max: 0.5, noNaN: true }),
      lossUp: fc.double({ min: 0, max: 0.5, noNaN: true }), maxDelay: fc.integer({ min: 0, max: 3 }),
      dup: fc.double({ min: 0, max: 0.2, noNaN: true }), churn: fc.double({ min: 0, max: 0.05, noNaN: true }),
      teleport: fc.double({ min: 0, max: 0.1, noNaN: true }), idle: fc.double({ min: 0, max: 0.5, noNaN: true }),
    }), (p) => {
      const out = runConnection(p);
      expect(out.decoded).toBeGreaterThan(0);
      // After the heal phase the newest snapshot is complete and matches the world at its tick.
      const snap = out.newestDecoded;
      expect(snap.omitted).toEqual([]);
      const t = out.truth.get(snap.id)!;
      expect(snap.entities.map((e) => e.id)).toEqual([...t.keys()].sort((a, b) => a - b));
      for (const e of snap.entities) expectClose(e, t.get(e.id)!);
    }), { numRuns: 60 });
  });
});

describe('snapshot decode never throws', () => {
  const sample = (() => {
    const scene = new Scene({ players: 30, seed: 9, teleport: 0.2 });
    const a = ok(encodeSnapshot({ snapshotId: 3, serverTick: 1, serverTime: 1, lastInputSeq: 1, entities: scene.entities() }, 1200));
    scene.advance();
    const ents = scene.entities();
    ents.push({ id: 900, x: 1, y: 1, angle: 1 });
    const b = ok(encodeSnapshot({ snapshotId: 4, serverTick: 2, serverTime: 2, lastInputSeq: 2, entities: ents.slice(3), baseline: a.view }, 1200));
    return { a, b };
  })();
  const lookup = (id: number) => (id === 3 ? sample.a.view : undefined);
  const check = (r: ReturnType<typeof decodeSnapshot>) => {
    if (r.ok) {
      const s = r.snapshot;
      expect(s.entities.length).toBe(s.count);
      for (let i = 1; i < s.count; i++) expect(s.ids[i]).toBeGreaterThan(s.ids[i - 1]);
      for (const e of s.entities) {
        expect(e.x).toBeGreaterThanOrEqual(0);
        expect(e.x).toBeLessThanOrEqual(1000);
      }
    } else {
      expect(['malformed', 'unknown_baseline']).toContain(r.reason);
    }
  };

  it('rejects truncation, trailing bytes, a wrong id and an empty message as malformed', () => {
    const bytes = sample.b.bytes;
    expect(decodeSnapshot(bytes.subarray(0, bytes.length - 1), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeSnapshot(Uint8Array.from([...bytes, 0]), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeSnapshot(Uint8Array.from([32, ...bytes.subarray(1)]), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeSnapshot(new Uint8Array(0), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeSnapshotBody(new Uint8Array(3), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeSnapshot(new Uint8Array(40).fill(0).map((_, i) => (i === 0 ? SNAPSHOT_MESSAGE_ID : 0)), lookup)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1300 }), (body) => {
      check(decodeSnapshot(Uint8Array.from([SNAPSHOT_MESSAGE_ID, ...body]), lookup));
    }), { numRuns: 3000 });
  });

  it('mutated valid snapshots (full and delta)', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'flip', 'insert', 'delete', 'truncate')), { minLength: 1, maxLength: 4 }), (useDelta, muts) => {
      const bytes = [...(useDelta ? sample.b.bytes : sample.a.bytes)];
      for (const [at0, v, kind] of muts) {
        const at = 1 + (at0 % Math.max(1, bytes.length - 1));
        if (kind === 'set') bytes[at] = v;
        else if (kind === 'flip') bytes[at] ^= 1 << (v & 7);
        else if (kind === 'insert') bytes.splice(at, 0, v);
        else if (kind === 'delete') bytes.splice(at, 1);
        else bytes.length = at;
      }
      check(decodeSnapshot(Uint8Array.from(bytes), lookup));
    }), { numRuns: 3000 });
  });
});
