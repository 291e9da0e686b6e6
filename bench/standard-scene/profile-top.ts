/**
 * `tsx bench/standard-scene/profile-top.ts <file.cpuprofile> [n]`: the functions with the most
 * self time in a V8 CPU profile (as written by `--profile-server`), one JSON line each, so a
 * benchmark run points at where the server spends its CPU.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonLine } from '../../tools/lib/json-lines.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Self time per function (name + file + line), largest first. Pure. */
export function topSelfTime(profile: CpuProfile, n: number, root = ''): SelfTime[] {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, SelfTime>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const node = byNode.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    let file = url;
    if (url.startsWith('file://')) file = root ? relative(root, fileURLToPath(url)) : fileURLToPath(url);
    const key = `${functionName}|${file}|${lineNumber}`;
    const t = totals.get(key) ?? { fn: functionName || '(anonymous)', where: file ? `${file}:${lineNumber + 1}` : '', selfMs: 0, share: 0 };
    t.selfMs += us / 1000;
    totals.set(key, t);
  });
  const list = [...totals.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, n);
  for (const t of list) t.share = all > 0 ? (t.selfMs * 1000) / all : 0;
  return list;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/standard-scene/profile-top.ts <file.cpuprofile> [n]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const t of topSelfTime(profile, Number(count ?? 25), process.cwd())) writeJsonLine(t);
}
