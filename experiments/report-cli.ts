/**
 * `npx tsx experiments/report-cli.ts --from experiments/out/<run>/results.jsonl [--out DIR]
 *  [--report-name README.md]`
 *
 * Generates a run's report, summary tables and plots from its results file (results-log.ts),
 * complete or cut short, without running anything: this is how a committed report under
 * docs/experiments/ is made, and how it is made again after the report's format changes. The
 * results file is copied next to the report. A hand-written analysis block already in the
 * report (report.ts, ANALYSIS_BEGIN/END) is kept.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { FILES, writeOutputs } from './report.js';
import { parseResultLines } from './results-log.js';

const USAGE = `usage: npx tsx experiments/report-cli.ts --from RESULTS.jsonl [--out DIR] [--report-name report.md]
  --out: where to write (default: the results file's folder)
  --report-name: the Markdown report's file name (default report.md; README.md for docs/experiments/)`;

const FLAGS = { from: flag.string(), out: flag.string(), 'report-name': flag.string() };

function main(): void {
  const { values: v } = cliArgs(() => {
    const p = parseFlags(process.argv.slice(2), FLAGS);
    if (!p.help && !p.values.from) throw new UsageError('--from is required');
    return p;
  }, USAGE);
  const from = resolve(v.from!);
  const out = resolve(v.out ?? dirname(from));
  const { summary, cdf, complete } = parseResultLines(readFileSync(from, 'utf8'));
  mkdirSync(out, { recursive: true });
  const target = join(out, FILES.resultsJsonl);
  if (target !== from) copyFileSync(from, target);
  const reportName = v['report-name'] ?? FILES.report;
  writeOutputs(out, summary, cdf, { reportName });
  process.stderr.write(`${summary.results.length} arm runs${complete ? '' : ' (the run did not finish)'}; report ${join(out, reportName)}\n`);
  process.stdout.write(`${out}\n`);
}

main();
