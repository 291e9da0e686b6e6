import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { GameMetrics, SNAPSHOT_DURATION_BUCKETS, TICK_DURATION_BUCKETS } from '../../server/metrics.js';

const sample = (text: string, name: string, labels: string) => {
  const m = text.match(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : null;
};

describe('GameMetrics traffic counters', () => {
  it('countMessage shows up exactly in tickwire_bytes_total and tickwire_messages_total, once per message across scrapes', async () => {
    const m = new GameMetrics();
    m.countMessage('unreliable', 'out', 900);
    m.countMessage('unreliable', 'out', 100);
    m.countMessage('reliable', 'in', 7);
    let text = await m.text();
    expect(sample(text, 'tickwire_bytes_total', 'channel="unreliable",direction="out"')).toBe(1000);
    expect(sample(text, 'tickwire_messages_total', 'channel="unreliable",direction="out"')).toBe(2);
    expect(sample(text, 'tickwire_bytes_total', 'channel="reliable",direction="in"')).toBe(7);
    expect(sample(text, 'tickwire_messages_total', 'channel="reliable",direction="in"')).toBe(1);
    expect(sample(text, 'tickwire_messages_total', 'channel="unreliable",direction="in"')).toBeNull();
    // A second scrape adds nothing; later messages add to the totals.
    text = await m.text();
    expect(sample(text, 'tickwire_bytes_total', 'channel="unreliable",direction="out"')).toBe(1000);
    m.countMessage('unreliable', 'out', 50);
    m.countMessage('unreliable', 'in', 22);
    text = await m.text();
    expect(sample(text, 'tickwire_bytes_total', 'channel="unreliable",direction="out"')).toBe(1050);
    expect(sample(text, 'tickwire_messages_total', 'channel="unreliable",direction="out"')).toBe(3);
    expect(sample(text, 'tickwire_bytes_total', 'channel="unreliable",direction="in"')).toBe(22);
    // Reading one counter directly (as the benchmark does) sees pending counts too.
    m.countMessage('reliable', 'out', 3);
    const values = (await m.messages.get()).values;
    expect(values.find((v) => v.labels.channel === 'reliable' && v.labels.direction === 'out')?.value).toBe(1);
  });
});

describe('GameMetrics refusals', () => {
  it('sums refuse() counts and added sources into tickwire_refusals_total by layer and reason, stable across scrapes', async () => {
    const m = new GameMetrics();
    const quic = { n: 3 };
    m.addRefusalSource(() => [
      { layer: 'quic', reason: 'connection_limit', count: quic.n },
      { layer: 'http3', reason: 'status_404', count: 0 },
    ]);
    m.refuse('game', 'pending_hello_per_address');
    m.refuse('game', 'pending_hello_per_address', 2);
    m.refuse('quic', 'connection_limit');
    let text = await m.text();
    expect(sample(text, 'tickwire_refusals_total', 'layer="game",reason="pending_hello_per_address"')).toBe(3);
    // A layer's own total and one counted here under the same label add up.
    expect(sample(text, 'tickwire_refusals_total', 'layer="quic",reason="connection_limit"')).toBe(4);
    // Zero totals are no sample at all.
    expect(sample(text, 'tickwire_refusals_total', 'layer="http3",reason="status_404"')).toBeNull();
    text = await m.text();
    expect(sample(text, 'tickwire_refusals_total', 'layer="quic",reason="connection_limit"')).toBe(4);
    quic.n = 10;
    text = await m.text();
    expect(sample(text, 'tickwire_refusals_total', 'layer="quic",reason="connection_limit"')).toBe(11);
  });
});

/** The block of one metric (HELP, TYPE, samples) in a Prometheus text exposition. */
const block = (text: string, name: string) => {
  const start = text.indexOf(`# HELP ${name} `);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end < 0 ? undefined : end).trimEnd();
};

/** Deterministic durations: every bucket bound exactly, just above each, past the top, zero, and a spread. */
function durations(bounds: readonly number[], n: number): number[] {
  const out = [0, 1, 3.5, ...bounds, ...bounds.map((b) => b + 1e-12), ...bounds.map((b) => b * 0.999)];
  let x = 12345;
  while (out.length < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    // Mostly sub-millisecond like real ticks, some up to 0.2 s.
    out.push((x / 2 ** 32) ** 3 * 0.2);
  }
  return out;
}

describe('GameMetrics duration histograms', () => {
  const cases = [
    { name: 'tickwire_tick_duration_seconds', bounds: TICK_DURATION_BUCKETS, observe: (m: GameMetrics, v: number) => m.observeTick(v), get: (m: GameMetrics) => m.tickDuration },
    { name: 'tickwire_snapshot_duration_seconds', bounds: SNAPSHOT_DURATION_BUCKETS, observe: (m: GameMetrics, v: number) => m.observeSnapshot(v), get: (m: GameMetrics) => m.snapshotDuration },
  ];
  for (const c of cases) {
    it(`${c.name}: the exposition is byte-identical to a plain prom-client Histogram fed the same values, across scrapes`, async () => {
      const m = new GameMetrics();
      const reference = new Registry();
      const plain = new Histogram({ name: c.name, help: (await c.get(m).get()).help, buckets: [...c.bounds], registers: [reference] });
      // Before any observation: every bucket at 0.
      expect(block(await m.text(), c.name)).toBe(block(await reference.metrics(), c.name));
      const values = durations(c.bounds, 2000);
      // Scrapes in between (a delta hand-over would round the sum differently from one by one).
      for (const [i, v] of values.entries()) {
        c.observe(m, v);
        plain.observe(v);
        if (i % 337 === 0) await m.text();
      }
      const ours = block(await m.text(), c.name);
      expect(ours).toBe(block(await reference.metrics(), c.name));
      expect(ours).toContain(`${c.name}_count ${values.length}`);
      // A second scrape changes nothing; get() sees the same as a scrape.
      expect(block(await m.text(), c.name)).toBe(ours);
      expect(await c.get(m).get()).toEqual(await plain.get());
      expect(() => c.observe(m, Number.NaN)).toThrow(TypeError);
    });
  }
});
