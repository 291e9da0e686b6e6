/**
 * Minimal SVG line charts for the experiment report: enough for "p99 age against loss per arm"
 * and "age CDF", with axes, nice ticks and a legend. Pure string building, no dependency; the
 * output is a standalone SVG file that browsers and GitHub render.
 */

export interface Series {
  name: string;
  /** [x, y] pairs; NaN or non-finite points are skipped (a gap in the line). */
  points: ReadonlyArray<readonly [number, number]>;
  /** Draw a marker on every point (for sparse series like per-loss-level summaries). */
  markers?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Axis ranges; default from the data, starting at 0. */
  xMax?: number;
  yMax?: number;
  /** Step plot (for CDFs): horizontal then vertical between points. */
  step?: boolean;
  width?: number;
  height?: number;
}

/** Colour-blind-safe palette (Okabe-Ito), one per arm. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];

/** Escape text for XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Round steps of 1, 2 or 5 times a power of ten, about `target` of them up to `max`. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

/** Render a line chart as a complete SVG document. */
export function lineChart(opts: ChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 420;
  const m = { left: 70, right: 200, top: 44, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const finite = opts.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xTicks = niceTicks(opts.xMax ?? Math.max(0, ...finite.map(([x]) => x)));
  const yTicks = niceTicks(opts.yMax ?? Math.max(0, ...finite.map(([, y]) => y)));
  const xMax = xTicks[xTicks.length - 1];
  const yMax = yTicks[yTicks.length - 1];
  const sx = (x: number) => m.left + (Math.min(x, xMax) / xMax) * pw;
  const sy = (y: number) => m.top + ph - (Math.min(y, yMax) / yMax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2 - m.right / 2 + m.left / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${Number(y) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length > 0) {
      const coords: string[] = [];
      pts.forEach(([x, y], k) => {
        if (opts.step && k > 0) coords.push(`${sx(x).toFixed(1)},${sy(pts[k - 1][1]).toFixed(1)}`);
        coords.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      });
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${coords.join(' ')}"/>`);
      if (s.markers) {
        for (const [x, y] of pts) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${colour}"/>`);
      }
    }
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${m.left + pw + 14}" y1="${ly}" x2="${m.left + pw + 40}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Several charts side by side in one SVG document (one panel per RTT, say): each panel is a
 * complete chart from `lineChart`, nested as an inner <svg> at its grid position.
 */
export function panelGrid(title: string, charts: readonly ChartOptions[], columns = 2): string {
  const w = charts[0]?.width ?? 720;
  const h = charts[0]?.height ?? 420;
  const rows = Math.max(1, Math.ceil(charts.length / columns));
  const cols = Math.min(columns, Math.max(1, charts.length));
  const top = 36;
  const width = cols * w;
  const height = top + rows * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(title)}</text>`);
  charts.forEach((c, i) => {
    const x = (i % cols) * w;
    const y = top + Math.floor(i / cols) * h;
    out.push(lineChart(c).trim().replace(/^<svg /, `<svg x="${x}" y="${y}" `));
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
