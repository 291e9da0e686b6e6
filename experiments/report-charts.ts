/**
 * The report's plots: one metric against loss per arm, one panel per RTT (one or two rows), and
 * CDFs per arm at one condition. Pure: SVG strings from results (svg.ts draws).
 */
import { cdfPoints, percentileOfSorted, sortedCopy } from '../tools/lib/stats.js';
import { lineChart, panelGrid, type ChartOptions, type Series } from './svg.js';
import { ARMS, type ArmId, type ArmResult, type Condition } from './types.js';

/** The distinct RTT values in the results, ascending. */
function rtts(results: readonly ArmResult[]): number[] {
  return [...new Set(results.map((r) => r.condition.rttMs))].sort((a, b) => a - b);
}

function armsIn(results: readonly ArmResult[]): ArmId[] {
  return (Object.keys(ARMS) as ArmId[]).filter((a) => results.some((r) => r.arm === a));
}

export type Metric = 'snapshotAgeMs' | 'stalenessMs' | 'renderP50' | 'renderP99' | 'chatP50' | 'chatP99';

const METRIC_LABEL: Record<Metric, string> = {
  snapshotAgeMs: 'snapshot age p99 (ms)',
  stalenessMs: 'staleness p99 (ms)',
  renderP50: 'rendered error p50 (world units)',
  renderP99: 'rendered error p99 (world units)',
  chatP50: 'chat latency p50 (ms)',
  chatP99: 'chat latency p99 (ms)',
};

function metricOf(r: ArmResult, m: Metric): number {
  if (m === 'renderP50') return r.render?.errorUnits.p50 ?? Number.NaN;
  if (m === 'renderP99') return r.render?.errorUnits.p99 ?? Number.NaN;
  if (m === 'chatP50') return r.chat.latency.p50;
  if (m === 'chatP99') return r.chat.latency.p99;
  return r[m].p99;
}

/** One panel per RTT: `metric` against loss, one line per arm; all panels share the y axis. */
export function p99Chart(results: readonly ArmResult[], metric: Metric = 'snapshotAgeMs'): string {
  const rttList = rtts(results);
  const yMax = Math.max(0, ...results.map((r) => metricOf(r, metric)).filter(Number.isFinite));
  const panels: ChartOptions[] = rttList.map((rtt) => ({
    title: `RTT +${rtt} ms`,
    xLabel: 'packet loss each way (%)',
    yLabel: METRIC_LABEL[metric],
    yMax: yMax || undefined,
    series: armSeries(results, rtt, metric),
  }));
  const what = metric === 'snapshotAgeMs' ? 'p99 snapshot age' : metric === 'stalenessMs' ? 'p99 staleness' : metric === 'renderP50' ? 'p50 rendered error' : 'p99 rendered error';
  return panelGrid(`${what} vs packet loss, one panel per added RTT`, panels);
}

/** p50 and p99 rendered error against loss: two rows of panels (p50 above p99), one column per RTT. */
export function renderErrorChart(results: readonly ArmResult[]): string {
  return twoRowChart(results, ['renderP50', 'renderP99'], 'Rendered-position error vs packet loss (distance between where a remote player is drawn and where it is)');
}

/** p50 and p99 chat latency (send call to receipt at every other bot) against loss, laid out like `renderErrorChart`. */
export function chatLatencyChart(results: readonly ArmResult[]): string {
  return twoRowChart(results, ['chatP50', 'chatP99'], 'Chat latency vs packet loss (chat always travels on the reliable stream or socket)');
}

/** One line per arm of `metric` against loss at one added RTT (one panel's series). */
function armSeries(results: readonly ArmResult[], rtt: number, metric: Metric): Series[] {
  return armsIn(results).map((arm): Series => ({
    name: ARMS[arm].label,
    markers: true,
    points: results
      .filter((r) => r.arm === arm && r.condition.rttMs === rtt)
      .map((r) => [r.condition.lossPct, metricOf(r, metric)] as const)
      .sort((x, y) => x[0] - y[0]),
  }));
}

/** Two rows of panels (the first metric above the second), one column per RTT; each row shares its y axis. */
function twoRowChart(results: readonly ArmResult[], metrics: readonly [Metric, Metric], title: string): string {
  const rttList = rtts(results);
  const panels: ChartOptions[] = [];
  for (const metric of metrics) {
    const yMax = Math.max(0, ...results.map((r) => metricOf(r, metric)).filter(Number.isFinite));
    for (const rtt of rttList) {
      panels.push({
        title: `${metric.endsWith('P50') ? 'p50' : 'p99'}, RTT +${rtt} ms`,
        xLabel: 'packet loss each way (%)',
        yLabel: METRIC_LABEL[metric],
        yMax: yMax || undefined,
        width: 560,
        height: 360,
        series: armSeries(results, rtt, metric),
      });
    }
  }
  return panelGrid(title, panels, rttList.length);
}

export function conditionText(c: Condition): string {
  return `RTT +${c.rttMs} ms, ${c.lossPct}% loss`;
}

/** CDF per arm at one condition; the x axis stops at the largest p99.9 so the body stays readable. */
export function cdfChart(byArm: ReadonlyMap<ArmId, readonly number[]>, cond: Condition, what = 'Snapshot age', unit = 'snapshot age at the client (ms)'): string {
  const series: Series[] = [];
  let xMax = 0;
  for (const [arm, values] of byArm) {
    const sorted = sortedCopy(values);
    if (sorted.length) xMax = Math.max(xMax, percentileOfSorted(sorted, 99.9)!);
    series.push({ name: ARMS[arm].label, points: cdfPoints(sorted) });
  }
  return lineChart({
    title: `${what} CDF at ${conditionText(cond)}`,
    xLabel: `${unit}, axis cut at the largest p99.9`,
    yLabel: 'share of samples',
    series,
    xMax: xMax || undefined,
    yMax: 1,
    step: true,
  });
}
