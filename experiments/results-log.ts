/**
 * The run's results as JSON lines (`results.jsonl`), written as the run goes: one `start` line
 * with the run's facts, one `link` line per link-check condition, one `arm` line per arm and
 * condition as soon as it is measured, one `stages` line per condition, one `end` line. A run
 * that dies at arm 50 of 60 still leaves 49 measured arms on disk, and `report-cli.ts` turns the
 * file (complete or not) into the same report, plots and tables the harness writes at its end.
 *
 * The CDF plots need raw samples, which are too many to keep (hundreds of thousands per arm):
 * the `arm` line of the CDF condition carries 1,001 quantiles per distribution instead, which
 * draws the same curve at the plot's resolution.
 */
import { appendFileSync } from 'node:fs';
import { parseJsonLine, writeJsonLine } from '../tools/lib/json-lines.js';
import { percentileOfSorted, sortedCopy } from '../tools/lib/stats.js';
import type { CdfData } from './report.js';
import type { ArmId, ArmResult, Condition, LinkCheck, RunInfo, Summary } from './types.js';
import type { StageFinals } from './delay/conditions.js';

/** Quantiles kept per CDF distribution: every 0.1 %, p0 to p100. */
export const CDF_QUANTILES = 1001;

/** The raw samples of one arm at the CDF condition, reduced to quantiles. */
export interface CdfQuantiles {
  ages: number[];
  staleness: number[];
  errors: number[];
}

export type ResultLine =
  | { kind: 'start'; info: Omit<RunInfo, 'finishedAt'> }
  | { kind: 'link'; check: LinkCheck }
  | { kind: 'arm'; result: ArmResult; cdf?: CdfQuantiles }
  | { kind: 'stages'; condition: Condition; finals: StageFinals }
  | { kind: 'end'; finishedAt: string; snapshotHz: number };

/** `CDF_QUANTILES` evenly spaced nearest-rank quantiles of `values` (empty for no values), rounded to 0.01. */
export function quantiles(values: readonly number[]): number[] {
  const sorted = sortedCopy(values);
  if (sorted.length === 0) return [];
  return Array.from({ length: CDF_QUANTILES }, (_, i) => Math.round(100 * percentileOfSorted(sorted, (100 * i) / (CDF_QUANTILES - 1))!) / 100);
}

/** Appends one line to the results file. */
export function appendResultLine(file: string, line: ResultLine): void {
  writeJsonLine(line, { write: (text: string) => appendFileSync(file, text) });
}

/**
 * The summary (and CDF data) a results file describes. A file without its `end` line (the run
 * stopped early) gives the arms measured so far, with `finishedAt` saying so. Throws when there
 * is no `start` line.
 */
export function parseResultLines(text: string): { summary: Summary; cdf: CdfData; complete: boolean } {
  let start: Omit<RunInfo, 'finishedAt'> | null = null;
  let end: { finishedAt: string; snapshotHz: number } | null = null;
  const linkCheck: LinkCheck[] = [];
  const results: ArmResult[] = [];
  const stages: Summary['stages'] = [];
  const cdf: CdfData = { condition: null, ages: new Map(), staleness: new Map(), errors: new Map() };
  for (const raw of text.split('\n')) {
    const line = parseJsonLine(raw) as unknown as ResultLine | null;
    if (!line) continue;
    switch (line.kind) {
      case 'start': start = line.info; break;
      case 'link': linkCheck.push(line.check); break;
      case 'stages': stages.push({ condition: line.condition, finals: line.finals }); break;
      case 'end': end = { finishedAt: line.finishedAt, snapshotHz: line.snapshotHz }; break;
      case 'arm': {
        results.push(line.result);
        if (line.cdf) {
          const arm: ArmId = line.result.arm;
          cdf.condition = line.result.condition;
          cdf.ages.set(arm, line.cdf.ages);
          cdf.staleness.set(arm, line.cdf.staleness);
          cdf.errors.set(arm, line.cdf.errors);
        }
        break;
      }
      default: break;
    }
  }
  if (!start) throw new Error('no "start" line: not a results file of the experiment');
  const info: RunInfo = {
    ...start,
    snapshotHz: end?.snapshotHz ?? results[results.length - 1]?.snapshotHz ?? start.snapshotHz,
    finishedAt: end?.finishedAt ?? `unfinished (${results.length} of ${start.conditions.length * start.arms.length} arm runs measured)`,
  };
  return { summary: { info, linkCheck, results, stages }, cdf, complete: end !== null };
}
