/**
 * The results file a run writes as it goes, and the report generated from it: what is written
 * comes back the same, a run cut short still gives its measured arms, the CDF quantiles keep the
 * distribution, and `report-cli.ts` (a real process on real files) writes the report, the plots
 * and the copy of the results, keeping a hand-written analysis when it generates the report again.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/lib/child.js';
import { ANALYSIS_BEGIN, ANALYSIS_END, FILES, keepAnalysis } from '../../experiments/report.js';
import { CDF_QUANTILES, appendResultLine, parseResultLines, quantiles } from '../../experiments/results-log.js';
import { fixtureSummary, result } from './fixtures.js';

function writeRun(file: string, finished: boolean): void {
  const s = fixtureSummary([result('wt-datagram', 0, [10, 11, 12]), result('websocket', 0, [10, 11, 13])]);
  const { finishedAt, ...start } = s.info;
  appendResultLine(file, { kind: 'start', info: start });
  for (const check of s.linkCheck) appendResultLine(file, { kind: 'link', check });
  appendResultLine(file, { kind: 'arm', result: s.results[0] });
  appendResultLine(file, { kind: 'arm', result: s.results[1], cdf: { ages: quantiles([5, 6, 7]), staleness: quantiles([30, 40]), errors: quantiles([1, 2]) } });
  if (finished) appendResultLine(file, { kind: 'end', finishedAt, snapshotHz: 20 });
}

describe('results file', () => {
  it('quantiles: 1,001 nearest-rank values from the minimum to the maximum', () => {
    const q = quantiles(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(q).toHaveLength(CDF_QUANTILES);
    expect(q[0]).toBe(1);
    expect(q[500]).toBe(5000);
    expect(q[990]).toBe(9900);
    expect(q[1000]).toBe(10_000);
    expect(quantiles([])).toEqual([]);
  });

  it('reads back what the run wrote; a run cut short says so and keeps its arms', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-results-'));
    try {
      const full = join(dir, 'full.jsonl');
      writeRun(full, true);
      const a = parseResultLines(readFileSync(full, 'utf8'));
      expect(a.complete).toBe(true);
      expect(a.summary.info.finishedAt).toBe('f');
      expect(a.summary.results.map((r) => r.arm)).toEqual(['wt-datagram', 'websocket']);
      expect(a.summary.results[0]).toEqual(result('wt-datagram', 0, [10, 11, 12]));
      expect(a.summary.linkCheck).toHaveLength(1);
      expect(a.cdf.condition).toEqual({ lossPct: 0, rttMs: 0 });
      expect([...a.cdf.ages.keys()]).toEqual(['websocket']);
      expect(a.cdf.staleness.get('websocket')![0]).toBe(30);

      const cut = join(dir, 'cut.jsonl');
      writeRun(cut, false);
      writeFileSync(cut, `${readFileSync(cut, 'utf8')}{"kind":"arm","resu`);
      const b = parseResultLines(readFileSync(cut, 'utf8'));
      expect(b.complete).toBe(false);
      expect(b.summary.results).toHaveLength(2);
      expect(b.summary.info.finishedAt).toBe('unfinished (2 of 4 arm runs measured)');
      expect(() => parseResultLines('{"kind":"arm"}\n')).toThrow(/no "start" line/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a hand-written analysis block after the title when the report is generated again', () => {
    const block = `${ANALYSIS_BEGIN}\nDatagrams win.\n${ANALYSIS_END}`;
    expect(keepAnalysis('# T\nbody\n', `# old\n\n${block}\nold body\n`)).toBe(`# T\n\n${block}\nbody\n`);
    expect(keepAnalysis('# T\nbody\n', null)).toBe('# T\nbody\n');
    expect(keepAnalysis('# T\nbody\n', '# old\nno block\n')).toBe('# T\nbody\n');
  });

  it('report-cli writes README.md, plots and the results copy from the file, and keeps the analysis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-report-cli-'));
    try {
      const from = join(dir, 'run.jsonl');
      writeRun(from, true);
      const out = join(dir, 'docs');
      const run = () => spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'experiments/report-cli.ts'), '--from', from, '--out', out, '--report-name', 'README.md'], {
        cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000,
      });
      const first = run();
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe(out);
      for (const f of ['README.md', FILES.resultsJsonl, FILES.summaryJson, FILES.summaryCsv, FILES.stalenessPlot, FILES.errorPlot, FILES.chatPlot, FILES.p99Plot, FILES.stalenessCdf]) {
        expect(existsSync(join(out, f)), f).toBe(true);
      }
      const readme = join(out, 'README.md');
      expect(readFileSync(readme, 'utf8')).toContain('| command | `npm run experiment -- --quick` |');
      expect(readFileSync(readme, 'utf8')).toContain('with its send time (in the run\'s output folder only: too large to commit).');
      writeFileSync(readme, readFileSync(readme, 'utf8').replace('\n', `\n\n${ANALYSIS_BEGIN}\nHand-written.\n${ANALYSIS_END}\n`));
      expect(run().status).toBe(0);
      const again = readFileSync(readme, 'utf8');
      expect(again.split(ANALYSIS_BEGIN)).toHaveLength(2);
      expect(again).toContain('Hand-written.');
      const bad = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'experiments/report-cli.ts')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--from is required');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
