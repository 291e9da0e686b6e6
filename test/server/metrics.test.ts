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
