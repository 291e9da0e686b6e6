/**
 * `npm run bench:scene`: the standard scene (DESIGN.md) for tickwire over WebTransport and
 * WebSocket and for the Colyseus peer, in one run, interleaved per (P, run) so both see the same
 * machine. Per (P, transport, run) a fresh server process, an observer process (1 client, joins
 * first) and a load process (P-1 clients); warm-up, then a measured window.
 *
 * stdout: JSON lines only (report.ts: kind run | median | ratio | target).
 * stderr: progress, children's output (labelled) and, at the end, a Markdown table.
 * Every child is stopped by PID at the end, also on failure and on SIGINT/SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { cliArgs } from '../../tools/lib/args.js';
import { REPO_ROOT, ToolChild } from '../../tools/lib/child.js';
import { CleanupStack } from '../../tools/lib/cleanup.js';
import { sleep } from '../../tools/lib/clock.js';
import { writeJsonLine } from '../../tools/lib/json-lines.js';
import { parseArgs, USAGE, type BenchArgs } from './args.js';
import type { Joined, LoadReport, ObserverReport, ServerReady, ServerReport, Stopped } from './reports.js';
import { ColyseusPeer, peerSourceDir } from './peer.js';
import { checkPinCpus, pinProcess } from '../../tools/lib/pin.js';
import {
  emptyMetrics, markdownTable, mediansOf, ourRunLine, ratiosOf, targetList, targetsOf,
  type BenchTransport, type OutputLine, type RunLine,
} from './report.js';

/** The entry scripts' folder, relative to the repository root. */
const HERE = 'bench/standard-scene';

/** Time for a fresh server process to start listening (tsx compile on a busy box included). */
const SERVER_READY_TIMEOUT_MS = 30_000;
const OBSERVER_JOIN_TIMEOUT_MS = 30_000;
/** Joining P-1 clients; the load process gives up at 150 s itself. */
const LOAD_JOIN_TIMEOUT_MS = 170_000;
const START_STOP_TIMEOUT_MS = 10_000;
/** Pause between runs so the previous processes' sockets and CPU settle. */
const BETWEEN_RUNS_MS = 1_000;

const log = (s: string) => process.stderr.write(`${s}\n`);
const emit = (line: OutputLine) => writeJsonLine(line);
/** Every child is registered here until it exits: stopped on failure, SIGINT and SIGTERM too. */
const cleanup = new CleanupStack();

/** One (P, transport, run) of ours: server, observer, load; stopped by PID whatever happens. */
async function runOurs(P: number, transport: BenchTransport, run: number, a: BenchArgs): Promise<RunLine> {
  const base = { kind: 'run' as const, system: 'tickwire' as const, transport, P, run, windowS: a.windowS };
  const tag = `${transport === 'webtransport' ? 'wt' : 'ws'} P=${P} #${run}`;
  const children: ToolChild[] = [];
  try {
    // The server profiles its window only (window-profile.ts), one folder per run; perf reads
    // JIT-compiled frames from /tmp/perf-<pid>.map, which --perf-basic-prof writes.
    const serverArgs = a.profileServerDir ? ['--profile-dir', resolve(a.profileServerDir, `server-${transport}-P${P}-run${run}`)] : [];
    if (a.wtWorkers !== null) serverArgs.push('--wt-workers', String(a.wtWorkers));
    const nodeFlags = a.perfServerDir ? ['--perf-basic-prof'] : [];
    const server = ToolChild.script(`${HERE}/server-entry.ts`, serverArgs, { label: `server ${tag}`, echo: true, cleanup, nodeFlags, cpus: a.pin?.server });
    children.push(server);
    const ready = await server.waitFor<ServerReady>('ready', SERVER_READY_TIMEOUT_MS);
    const common = ['--url', ready.baseUrl, '--transport', transport];
    const observer = ToolChild.script(`${HERE}/observer-entry.ts`, common, { label: `observer ${tag}`, echo: true, cleanup, cpus: a.pin?.clients });
    children.push(observer);
    await observer.waitFor('joined', OBSERVER_JOIN_TIMEOUT_MS);
    // The load process is profiled beside the server: on one box its CPU is the server's rival.
    const loadFlags = a.profileServerDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(a.profileServerDir, `load-${transport}-P${P}-run${run}`)}`] : [];
    const load = ToolChild.script(`${HERE}/load-entry.ts`, [...common, '--count', String(P - 1), '--client', a.loadClient], { label: `load ${tag}`, echo: true, cleanup, nodeFlags: loadFlags, cpus: a.pin?.clients });
    children.push(load);
    const joined = await load.waitFor<Joined>('joined', LOAD_JOIN_TIMEOUT_MS);
    log(`[bench] ${tag}: ${joined.clients + 1} clients joined in ${Math.round(joined.joinMs)} ms; warm-up ${a.warmupS} s`);
    await sleep(a.warmupS * 1000);
    for (const c of children) c.send({ cmd: 'start' });
    await Promise.all(children.map((c) => c.waitFor('started', START_STOP_TIMEOUT_MS)));
    const perf = a.perfServerDir ? recordPerf(server.pid!, a.perfServerDir, `server-${transport}-P${P}-run${run}.perf.data`, a.windowS) : null;
    await sleep(a.windowS * 1000);
    if (perf) await perf.waitExit(START_STOP_TIMEOUT_MS).catch((err: unknown) => log(`[bench] perf: ${String(err)}`));
    for (const c of children) c.send({ cmd: 'stop' });
    const [s, o, l] = await Promise.all(children.map((c) => c.waitFor<Stopped>('stopped', START_STOP_TIMEOUT_MS)));
    const { line, notes } = ourRunLine(base, s.report as ServerReport, o.report as ObserverReport, l.report as LoadReport);
    if (notes.length) log(`[bench] ${tag} notes: ${notes.join(' | ')}`);
    return line;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`[bench] ${tag} FAILED: ${message}`);
    return { ...base, ...emptyMetrics(), error: message.slice(0, 500) };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

/**
 * `perf record -g` of process `pid` for `seconds` into DIR/file (cpu-clock where the VM has no
 * hardware counters). docs/profiling.md says how to read it.
 */
function recordPerf(pid: number, dir: string, file: string, seconds: number): ToolChild {
  mkdirSync(dir, { recursive: true });
  const out = resolve(dir, file);
  log(`[bench] perf record of server ${pid} into ${out}`);
  return ToolChild.command('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', out, '--', 'sleep', String(seconds)], { label: 'perf', echo: true, cleanup });
}

async function main(): Promise<number> {
  const a = cliArgs(() => {
    const parsed = parseArgs(process.argv.slice(2));
    if (parsed.pin) checkPinCpus(parsed.pin);
    return parsed;
  }, USAGE);
  cleanup.installProcessHandlers((signal) => `[bench] ${signal}: stopping children`);
  const started = Date.now();
  log(`[bench] standard scene: P=${a.ps.join(',')} runs=${a.runs} warm-up=${a.warmupS}s window=${a.windowS}s transports=${a.transports.join(',')} load=${a.loadClient} peer=${a.peer ? 'colyseus' : 'off'}${a.wtWorkers === null ? '' : ` wt-workers=${a.wtWorkers}`}${a.pin ? ` pinned: server on CPUs ${a.pin.server}, clients on CPUs ${a.pin.clients}` : ''}`);
  // The orchestrator is idle most of the time; pinned, it stays off the server's CPUs too.
  if (a.pin) pinProcess(process.pid, a.pin.clients);

  let peer: ColyseusPeer | null = null;
  const lines: RunLine[] = [];
  if (a.peer) {
    try {
      peer = await ColyseusPeer.prepare(peerSourceDir(REPO_ROOT), log, { env: process.env, cleanup });
      peer.tidy();
    } catch (err) {
      log(`[bench] Colyseus peer unavailable: ${err instanceof Error ? err.message : String(err)}`);
      for (const P of a.ps) {
        const line: RunLine = { kind: 'run', system: 'colyseus', transport: 'websocket', P, run: 1, windowS: a.windowS, ...emptyMetrics(), error: `peer unavailable: ${String(err).slice(0, 300)}` };
        lines.push(line);
        emit(line);
      }
    }
  }

  for (const P of a.ps) {
    for (let run = 1; run <= a.runs; run++) {
      for (const transport of a.peerOnly ? [] : a.transports) {
        log(`[bench] tickwire ${transport} P=${P} run ${run}/${a.runs} ...`);
        const line = await runOurs(P, transport, run, a);
        lines.push(line);
        emit(line);
        await sleep(BETWEEN_RUNS_MS);
      }
      if (peer) {
        log(`[bench] colyseus P=${P} run ${run}/${a.runs} ...`);
        const line = await peer.runOnce({ P, run, warmupS: a.warmupS, windowS: a.windowS, pin: a.pin }, log);
        lines.push(line);
        emit(line);
        await sleep(BETWEEN_RUNS_MS);
      }
    }
  }

  const medians = mediansOf(lines);
  for (const m of medians) emit(m);
  const ratios = ratiosOf(medians);
  for (const r of ratios) emit(r);
  const targets = targetsOf(medians, ratios);
  for (const t of targets) emit(t);
  log(`\n${markdownTable(medians, ratios)}\n`);
  if (targets.length) log(`${targetList(targets)}\n`);
  log(`[bench] done in ${Math.round((Date.now() - started) / 1000)} s`);
  return lines.some((l) => l.error) ? 1 : 0;
}

main().then(
  async (code) => {
    await cleanup.runAll();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup.runAll();
    process.exit(1);
  },
);
