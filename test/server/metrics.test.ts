import { describe, expect, it } from 'vitest';
import { GameMetrics } from '../../server/metrics.js';

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
