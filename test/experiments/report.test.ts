import { describe, it, expect } from 'vitest';
import { lineChart, niceTicks, escapeXml } from '../../experiments/svg.js';
import { armComparison, cdfCondition, findings, renderMarkdown, summaryCsv } from '../../experiments/report.js';
import { cdfChart, chatLatencyChart, p99Chart, renderErrorChart } from '../../experiments/report-charts.js';
import { parseCli, parseConditions } from '../../experiments/run.js';
import { fixtureSummary, result } from './fixtures.js';

/** Tags opened minus tags closed, ignoring self-closing ones: 0 for well-nested markup. */
function tagBalance(svg: string): number {
  const open = (svg.match(/<[a-z][^>]*[^/]>/g) ?? []).length;
  const close = (svg.match(/<\/[a-z]+>/g) ?? []).length;
  return open - close;
}

describe('svg charts', () => {
  it('picks 1-2-5 ticks covering the maximum', () => {
    expect(niceTicks(97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });

  it('draws one polyline per series, escapes names, skips non-finite points', () => {
    const svg = lineChart({
      title: 'a < b', xLabel: 'x', yLabel: 'y',
      series: [{ name: 'A&B', points: [[0, 1], [1, Number.NaN], [2, 3]], markers: true }, { name: 'C', points: [] }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt; b');
    expect(svg).toContain('A&amp;B');
    expect((svg.match(/<polyline/g) ?? []).length).toBe(1);
    expect((svg.match(/<circle/g) ?? []).length).toBe(2);
    expect(svg).not.toContain('NaN');
    expect(tagBalance(svg)).toBe(0);
    expect(escapeXml(`"'`)).toBe('&quot;&apos;');
  });
});

describe('report', () => {
  const results = [
    result('wt-datagram', 0, [10, 11, 12]), result('websocket', 0, [10, 11, 13]),
    result('wt-datagram', 10, [10, 20, 30]), result('websocket', 10, [10, 200, 400]),
  ];
  const summary = fixtureSummary(results);

  it('says which impairment was used and shows every arm and condition', () => {
    const md = renderMarkdown(summary, { lossPct: 10, rttMs: 0 });
    expect(md).toContain('| delay and jitter | **nfqueue**');
    expect(md).toContain('| loss | **nftables**');
    expect(md).toContain('| TCP congestion control | cubic');
    expect(md).toContain('| process priority | nice -10 ');
    expect(md).toContain('Linux 6');
    expect(md).toContain('| 0 | 10 | none / nftables | 3000 | 0.30 | 0.40 | 0.15 / 0.20 | 9.50 | 10.25 | 0 | cubic / cubic |');
    expect(md).toContain('p99-age-vs-loss.svg');
    expect(md).toContain('rendered-error-vs-loss.svg');
    expect(md).toContain('rendered-error-cdf.svg');
    expect(md).toContain('## Browser check');
    expect(md.match(/^\| 0 \| (0|10) \| Web[^|]*\|.*\| 30\/30 \|/gm)?.length).toBe(4);
    // Rendered error p50 / p99 of the 10 % datagram arm: ages / 10.
    expect(md).toMatch(/^\| 0 \| 10 \| WebTransport datagrams \|.*\| 2\.0 \| 3\.0 \| 2\.0% \| 1\.0% \| 150 \|/m);
    expect(findings(results).join('\n')).toMatch(/10% loss: snapshot age p99 datagrams 30\.0 ms, WebSocket 400 ms \(WebSocket\/datagram p99 ratio 13\.3x\); staleness p99 datagrams 55\.0 ms, WebSocket 425 ms;/);
  });

  it('sets datagrams against the stream per condition, stream minus datagrams', () => {
    const rows = [result('wt-datagram', 5, [10, 20, 30], 100), result('wt-stream', 5, [10, 40, 90], 100), result('websocket', 5, [10, 200, 400], 100)];
    const table = armComparison(rows);
    expect(table).toHaveLength(3);
    // Staleness p99 = age p99 + 25: 55 / 115 / 425, stream - datagrams = +60; rendered error p50 = age p50 / 10: 2 / 4 / 20.
    expect(table[2]).toBe('| 100 | 5 | 55.0 / 115 / 425 | +60.0 | 2.0 / 4.0 / 20.0 | +2.0 | 3.0 / 9.0 / 40.0 | +6.0 | 150 / 150 / 150 | 3.0 / 3.0 / 3.0 |');
    expect(armComparison([rows[0], rows[2]])).toEqual([]);
    expect(renderMarkdown({ ...summary, results: rows }, null)).toContain('## Datagrams against the reliable stream');
  });

  it('writes one CSV row per arm and condition with the realised drop rate', () => {
    const lines = summaryCsv(results).trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0].split(',')).toContain('age_p99_ms');
    expect(lines[3]).toMatch(/^10,0,wt-datagram,.*,10\.00,5\.00,0,0\.200,8\.0,0\.300,12\.0,2\.00,3\.00,0\.0200,0\.0100,150\.0,148\.0,2\.00,3\.00,0\.0200,0\.0100,150\.0$/);
    expect(lines[4]).toMatch(/,,,,,$/);
  });

  it('plots one panel per RTT with a line per arm, and the CDF at the condition nearest 100 ms and 5%', () => {
    const p99 = p99Chart(results);
    expect((p99.match(/<polyline/g) ?? []).length).toBe(2);
    expect(tagBalance(p99)).toBe(0);
    const two = [...results, result('wt-datagram', 0, [60], 100), result('websocket', 0, [70], 100), result('websocket', 5, [300], 100)];
    const panels = p99Chart(two, 'stalenessMs');
    expect((panels.match(/<svg /g) ?? []).length).toBe(3);
    expect(panels).toContain('RTT +0 ms');
    expect(panels).toContain('RTT +100 ms');
    expect((panels.match(/<polyline/g) ?? []).length).toBe(4);
    const err = renderErrorChart(two);
    expect((err.match(/<svg /g) ?? []).length).toBe(5);
    expect(tagBalance(err)).toBe(0);
    const chat = chatLatencyChart(two);
    expect((chat.match(/<svg /g) ?? []).length).toBe(5);
    expect(chat).toContain('p99, RTT +100 ms');
    expect(tagBalance(chat)).toBe(0);
    expect(cdfCondition(two.map((r) => r.condition))).toEqual({ lossPct: 5, rttMs: 100 });
    expect(cdfCondition([{ lossPct: 10, rttMs: 0 }, { lossPct: 2, rttMs: 0 }, { lossPct: 2, rttMs: 150 }])).toEqual({ lossPct: 2, rttMs: 150 });
    expect(p99Chart(results, 'stalenessMs')).toContain('p99 staleness vs packet loss');
    const cdf = cdfChart(new Map([['wt-datagram', [1, 2, 3]], ['websocket', [1, 50, 500]]]), { lossPct: 5, rttMs: 100 });
    expect(cdf).toContain('at RTT +100 ms, 5% loss');
    expect(tagBalance(cdf)).toBe(0);
  });
});

describe('command line', () => {
  const at = new Date('2026-11-22T06:00:00.000Z');
  it('has the issue defaults and a quick mode', () => {
    const d = parseCli([], at);
    expect(d).toMatchObject({ lossPcts: [0, 1, 2, 5, 10, 15], durationS: 20, bots: 16, rttMs: [0], arms: ['wt-datagram', 'wt-stream', 'websocket'] });
    expect(d.outDir).toMatch(/experiments\/out\/2026-11-22T06-00-00-000Z$/);
    expect(parseCli(['--quick'], at)).toMatchObject({ lossPcts: [0, 5, 10], durationS: 5, bots: 6 });
    expect(parseCli(['--quick', '--bots', '3'], at).bots).toBe(3);
    expect(parseCli([], at).nice).toBe(0);
    expect(parseCli(['--nice', '-10'], at).nice).toBe(-10);
    expect(parseCli(['--rt', '10'], at).realtime).toBe(10);
    expect(parseCli([], at).realtime).toBe(0);
    // The bots' interpolation rule can be overridden, and the warm-up run with loss, to compare rules.
    expect(parseCli(['--interp-base', '2', '--interp-residual', '1', '--lossy-warmup'], at)).toMatchObject({ interp: { baseIntervals: 2, lossResidual: 1 }, lossyWarmup: true });
    expect(parseCli([], at).interp).toBeUndefined();
    expect(parseCli([], at).lossyWarmup).toBe(false);
    expect(parseCli(['--rtt', '20,50', '--jitter', '5'], at)).toMatchObject({ rttMs: [20, 50], jitterMs: 5 });
    expect(parseCli(['--cc', 'bbr', '--jitter-mode', 'reorder', '--browser', '100:5,0:0'], at)).toMatchObject({
      tcpCongestion: 'bbr', jitterMode: 'reorder', browserAt: [{ rttMs: 100, lossPct: 5 }, { rttMs: 0, lossPct: 0 }],
    });
    expect(parseConditions('200:2.5')).toEqual([{ rttMs: 200, lossPct: 2.5 }]);
    expect(parseCli(['--loss', '0,5,10', '--duration', '10', '--seed', '7'], at)).toMatchObject({ lossPcts: [0, 5, 10], durationS: 10, seed: 7 });
  });

  it.each([
    [['--loss', '5,abc']], [['--loss', '101']], [['--nice', '-21']], [['--rt', '100']], [['--bots', '1']], [['--arms', 'carrier-pigeon']], [['--frobnicate', '1']], [['stray']], [['--browser', '100']], [['--cc', 'reno']],
  ])('rejects %j', (argv) => {
    expect(() => parseCli(argv, at)).toThrow();
  });
});
