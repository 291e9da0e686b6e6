/**
 * `tsx bench/standard-scene/profile-top.ts <file.cpuprofile|file.heapprofile> [n]`: the
 * functions with the most self time in a V8 CPU profile, or with the most sampled allocation in
 * a sampling heap profile (both as written by `--profile-server`), one JSON line each, so a
 * benchmark run points at where the server spends its CPU and makes its garbage.
 *
 * `... <file.cpuprofile> [n] --callers NAME`: the self time of the function NAME split by the
 * chain of its callers (CALLER_DEPTH frames), largest first. V8 labels every call into a N-API
 * module (the QUIC binding's) with one name, the last the module registered (seen as
 * `custom_gc` or `return`): its callers tell which binding calls the time goes to.
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

/** Caller frames `callersOf` names per chain. */
export const CALLER_DEPTH = 4;

export interface CallerTime {
  /** Innermost caller first: `flush < flushAll < ...`. */
  callers: string;
  selfMs: number;
  /** Of all of `name`'s self time. */
  share: number;
}

/** Self time of the function `name` by the chain of its callers, largest first. Pure. */
export function callersOf(profile: CpuProfile & { nodes: (ProfileNode & { children?: number[] })[] }, name: string, n: number): CallerTime[] {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const totals = new Map<string, CallerTime>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id);
    if (!node || node.callFrame.functionName !== name) return;
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const chain: string[] = [];
    for (let p = parent.get(id); p !== undefined && chain.length < CALLER_DEPTH; p = parent.get(p)) {
      chain.push(byNode.get(p)?.callFrame.functionName || '(anonymous)');
    }
    const key = chain.join(' < ');
    const t = totals.get(key) ?? { callers: key, selfMs: 0, share: 0 };
    t.selfMs += us / 1000;
    totals.set(key, t);
  });
  const list = [...totals.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, n);
  for (const t of list) t.share = all > 0 ? (t.selfMs * 1000) / all : 0;
  return list;
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface SelfBytes {
  fn: string;
  where: string;
  /** Sampled bytes allocated by the function itself (an estimate of all it allocated). */
  selfBytes: number;
  share: number;
}

function whereOf(url: string, lineNumber: number, root: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? (root ? relative(root, fileURLToPath(url)) : fileURLToPath(url)) : url;
  return `${file}:${lineNumber + 1}`;
}

/** Sampled allocation per function (name + file + line) of a sampling heap profile, largest first. Pure. */
export function topSelfBytes(head: HeapNode, n: number, root = ''): SelfBytes[] {
  const totals = new Map<string, SelfBytes>();
  let all = 0;
  // Iterative: a deep call tree must not overflow the stack.
  const stack = [head];
  while (stack.length) {
    const node = stack.pop()!;
    for (const c of node.children) stack.push(c);
    if (node.selfSize === 0) continue;
    all += node.selfSize;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName}|${url}|${lineNumber}`;
    const t = totals.get(key) ?? { fn: functionName || '(anonymous)', where: whereOf(url, lineNumber, root), selfBytes: 0, share: 0 };
    t.selfBytes += node.selfSize;
    totals.set(key, t);
  }
  const list = [...totals.values()].sort((a, b) => b.selfBytes - a.selfBytes).slice(0, n);
  for (const t of list) t.share = all > 0 ? t.selfBytes / all : 0;
  return list;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--callers');
  const callersName = at >= 0 ? args.splice(at, 2)[1] : undefined;
  const [file, count] = args;
  if (!file || (at >= 0 && !callersName)) {
    process.stderr.write('usage: tsx bench/standard-scene/profile-top.ts <file.cpuprofile|file.heapprofile> [n] [--callers NAME]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };
  const n = Number(count ?? 25);
  const top = 'head' in profile
    ? topSelfBytes(profile.head, n, process.cwd())
    : callersName !== undefined ? callersOf(profile, callersName, n) : topSelfTime(profile, n, process.cwd());
  for (const t of top) writeJsonLine(t);
}
