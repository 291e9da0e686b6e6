/**
 * The experiment itself, callable from the CLI (`run.ts`) and from tests: for every condition and
 * arm, a fresh server in one namespace, the bots in the other, loss switched on for the measured
 * window, results analysed and written out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { ToolChild, REPO_ROOT } from '../tools/lib/child.js';
import type { CleanupStack } from '../tools/lib/cleanup.js';
import { sleep } from '../tools/lib/clock.js';
import { LinkImpairer, chooseMethod, type ImpairMethod } from './impair.js';
import { EnvironmentError, checkPrerequisites, createTopology, destroyTopology, destroyTopologySync, type LinkEnd, type Topology } from './netns.js';
import { analyzeArm, windowAges } from './analyze.js';
import { appendRawCsv, cdfLossLevel, writeOutputs } from './report.js';
import { mustRun } from './shell.js';
import { probeLoss } from './loss-probe.js';
import { ARMS, type ArmId, type ArmResult, type BotsReport, type Condition, type LinkCheck, type RunInfo, type Summary, type WireBytes } from './types.js';

export interface ExperimentOptions {
  lossPcts: number[];
  /** Added RTTs in ms; anything but [0] needs netem. */
  rttMs: number[];
  /** netem jitter in ms per direction for every condition (netem only; default 0). */
  jitterMs?: number;
  durationS: number;
  bots: number;
  seed: number;
  /** Seconds of unimpaired play after every bot joined, before loss is switched on. */
  warmupS: number;
  arms: ArmId[];
  /** Output folder (created). */
  outDir: string;
  /** Seconds each bot waits between chat lines (jittered +/- 25 %). */
  chatIntervalS: number;
  /** The command line, for the report. */
  command: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Force an impairment method (tests); default: netem when the kernel has it. */
  method?: ImpairMethod;
  /** UDP echo probes per condition for the link check (0 = skip it). */
  linkCheckProbes?: number;
  /**
   * Nice value for the server and bots processes (default 0). On a shared machine a negative
   * value keeps other work from adding scheduler delay to the measured ages; both processes
   * need little CPU, so others lose little.
   */
  nice?: number;
  /**
   * SCHED_FIFO priority (1..99) for the server and bots processes; 0/absent = normal scheduling.
   * On a shared, loaded machine this keeps other work's CPU use out of the measured ages.
   */
  realtime?: number;
}

/** Fixed ports inside the server's own namespace: nothing else listens there. */
const SERVER_HTTP_PORT = 8080;
const SERVER_WT_PORT = 4433;
/** Bounds on each phase; a child that misses one is reported with its stderr, not waited on. */
const SERVER_START_TIMEOUT_MS = 60_000;
const BOTS_CONNECT_TIMEOUT_MS = 60_000;
/** After the window, chat still in flight gets this long to arrive (loss still applied). */
const CHAT_GRACE_MS = 8_000;
const PHASE_SLACK_MS = 20_000;
/** A server or bots process gets this long after SIGTERM before SIGKILL. */
const CHILD_STOP_GRACE_MS = 2000;
/** Probes per condition in the link check: at 10 % loss the realised rate is known to +/- 1 point. */
const LINK_CHECK_PROBES = 3000;

async function readTx(end: LinkEnd): Promise<WireBytes> {
  const out = await mustRun('ip', ['-n', end.ns, '-s', '-j', 'link', 'show', 'dev', end.ifname]);
  const link = (JSON.parse(out) as Array<{ stats64?: { tx?: { bytes?: number; packets?: number } } }>)[0];
  return { txBytes: link?.stats64?.tx?.bytes ?? 0, txPackets: link?.stats64?.tx?.packets ?? 0 };
}

function diff(a: WireBytes, b: WireBytes): WireBytes {
  return { txBytes: b.txBytes - a.txBytes, txPackets: b.txPackets - a.txPackets };
}

function machineFacts(): Pick<RunInfo, 'kernel' | 'cpu' | 'cpus' | 'memGiB' | 'node' | 'gitCommit'> {
  let kernel = 'unknown';
  let gitCommit = 'unknown';
  try {
    kernel = execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as unknown.
  }
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout.
  }
  const c = cpus();
  return { kernel, cpu: c[0]?.model ?? 'unknown', cpus: c.length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, gitCommit };
}

/** One arm under one condition; returns the analysed result and the raw ages (for the CDF). */
async function runArm(
  topo: Topology,
  impairer: LinkImpairer,
  armId: ArmId,
  cond: Condition,
  opts: ExperimentOptions,
  cleanup: CleanupStack,
): Promise<{ result: ArmResult; ages: number[] }> {
  const arm = ARMS[armId];
  const tag = `${armId}-loss${cond.lossPct}-rtt${cond.rttMs}`;
  const logFile = join(opts.outDir, 'logs', `${tag}.log`);
  const reportFile = join(opts.outDir, 'logs', `${tag}.bots.json`);
  const children: ToolChild[] = [];
  try {
    await impairer.clear();
    const server = ToolChild.script('experiments/server-entry.ts', [
      '--host', topo.server.address, '--http-port', String(SERVER_HTTP_PORT), '--wt-port', String(SERVER_WT_PORT),
      '--snapshot-channel', arm.snapshotChannel, '--seed', String(opts.seed),
    ], { label: `server(${tag})`, ns: topo.server.ns, logFile, nice: opts.nice, realtime: opts.realtime, cleanup });
    children.push(server);
    const ready = await server.waitFor('ready', SERVER_START_TIMEOUT_MS);
    const url = String(ready.url);

    const bots = ToolChild.script('experiments/bots-entry.ts', [
      '--url', url, '--transport', arm.transport, '--arm', armId, '--count', String(opts.bots), '--seed', String(opts.seed),
      '--chat-interval-ms', String(Math.round(opts.chatIntervalS * 1000)), '--report', reportFile,
    ], { label: `bots(${tag})`, ns: topo.client.ns, logFile, nice: opts.nice, realtime: opts.realtime, cleanup });
    children.push(bots);
    await bots.waitFor('connected', BOTS_CONNECT_TIMEOUT_MS);
    await sleep(opts.warmupS * 1000);

    // Loss goes on only now: the window measures steady play, not connection setup.
    await impairer.apply({ lossPct: cond.lossPct, rttMs: cond.rttMs || undefined, jitterMs: opts.jitterMs || undefined });
    const s0 = await readTx(topo.server);
    const c0 = await readTx(topo.client);
    server.send({ cmd: 'mark' });
    bots.send({ cmd: 'start', windowMs: Math.round(opts.durationS * 1000), graceMs: CHAT_GRACE_MS });
    await bots.waitFor('measured', opts.durationS * 1000 + PHASE_SLACK_MS);
    const s1 = await readTx(topo.server);
    const c1 = await readTx(topo.client);
    server.send({ cmd: 'stats' });
    const kernel = await impairer.counters();
    const load = await server.waitFor('stats', PHASE_SLACK_MS);
    await bots.waitFor('done', CHAT_GRACE_MS + PHASE_SLACK_MS);
    await impairer.clear();

    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as BotsReport;
    appendRawCsv(opts.outDir, cond, report);
    const result = analyzeArm(report, cond, { server: diff(s0, s1), client: diff(c0, c1) }, kernel, {
      loopDelayP99Ms: Number(load.loopDelayP99Ms),
      cpuPerSec: Number(load.cpuPerSec),
    });
    return { result, ages: windowAges(report) };
  } finally {
    await Promise.all(children.map((c) => c.stop(CHILD_STOP_GRACE_MS)));
  }
}

/**
 * Run every condition x arm and write the outputs into `opts.outDir`. Namespaces are removed on
 * return, on error and (via `cleanup`, when the caller installed its handlers) on Ctrl-C.
 */
export async function runExperiment(opts: ExperimentOptions, cleanup: CleanupStack): Promise<Summary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  await checkPrerequisites();
  const method = opts.method ?? (await chooseMethod());
  if (method !== 'netem' && (opts.rttMs.some((r) => r > 0) || (opts.jitterMs ?? 0) > 0)) {
    throw new EnvironmentError('--rtt and --jitter need netem, which this kernel does not have (nftables can only drop packets)');
  }
  mkdirSync(join(opts.outDir, 'logs'), { recursive: true });
  const startedAt = new Date().toISOString();
  const conditions: Condition[] = opts.rttMs.flatMap((rttMs) => opts.lossPcts.map((lossPct) => ({ lossPct, rttMs })));
  log(`impairment: ${method}; ${conditions.length} conditions x ${opts.arms.length} arms, ${opts.bots} bots, ${opts.durationS} s each; output ${opts.outDir}`);

  const topo = await createTopology();
  const untrack = cleanup.push({
    label: `namespaces ${topo.prefix}`,
    run: () => destroyTopology(topo),
    runSync: () => destroyTopologySync(topo),
  });
  log(`namespaces: ${topo.server.ns} (server, ${topo.server.address}), ${topo.client.ns} (bots, ${topo.client.address})`);
  const results: ArmResult[] = [];
  const linkCheck: LinkCheck[] = [];
  const cdfLoss = cdfLossLevel(conditions);
  const cdfRtt = opts.rttMs[0];
  const cdfAges = new Map<ArmId, number[]>();
  let snapshotHz = 20;
  try {
    const impairer = new LinkImpairer(topo, method);
    const probes = opts.linkCheckProbes ?? LINK_CHECK_PROBES;
    if (probes > 0) {
      for (const cond of conditions) {
        await impairer.apply({ lossPct: cond.lossPct, rttMs: cond.rttMs || undefined, jitterMs: opts.jitterMs || undefined });
        const p = await probeLoss(topo, impairer, {
          udpProbes: probes,
          tcpBytes: 0,
          logFile: join(opts.outDir, 'logs', 'link-check.log'),
          realtime: opts.realtime,
        });
        linkCheck.push({ condition: cond, probes, upLossPct: p.udp.upLossPct, downLossPct: p.udp.downLossPct });
        log(`link check at ${cond.lossPct}%: UDP loss ${p.udp.upLossPct.toFixed(1)}% up, ${p.udp.downLossPct.toFixed(1)}% down (${probes} probes)`);
      }
      await impairer.clear();
    }
    for (const cond of conditions) {
      for (const arm of opts.arms) {
        log(`- loss ${cond.lossPct}%${cond.rttMs ? ` rtt +${cond.rttMs} ms` : ''}, ${ARMS[arm].label}...`);
        const { result, ages } = await runArm(topo, impairer, arm, cond, opts, cleanup);
        results.push(result);
        snapshotHz = result.snapshotHz;
        if (cond.lossPct === cdfLoss && cond.rttMs === cdfRtt) cdfAges.set(arm, ages);
        log(`  age p50 ${result.snapshotAgeMs.p50.toFixed(1)} p99 ${result.snapshotAgeMs.p99.toFixed(1)} ms, stalls ${(100 * result.stallShare).toFixed(1)}%, chat ${result.chat.delivered}/${result.chat.expected} dup ${result.chat.duplicates}`);
      }
    }
  } finally {
    await destroyTopology(topo);
    untrack();
  }
  const info: RunInfo = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: opts.command,
    method,
    ...machineFacts(),
    seed: opts.seed,
    bots: opts.bots,
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    conditions,
    arms: opts.arms,
    snapshotHz,
    nice: opts.nice ?? 0,
    realtime: opts.realtime ?? 0,
    jitterMs: opts.jitterMs ?? 0,
  };
  const summary: Summary = { info, linkCheck, results };
  writeOutputs(opts.outDir, summary, cdfAges, cdfLoss);
  writeFileSync(join(opts.outDir, 'topology.json'), `${JSON.stringify({ prefix: topo.prefix, server: topo.server, client: topo.client }, null, 2)}\n`);
  return summary;
}
