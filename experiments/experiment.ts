/**
 * The experiment itself, callable from the CLI (`run.ts`) and from tests: for every condition and
 * arm, a fresh server in one namespace, the bots (and, where asked, a real Chromium page) in the
 * other, the link's delay and jitter in force from the start and loss switched on for the
 * measured window, results analysed and written out.
 *
 * Link conditions go through delay/conditions.ts's LinkShaper: netem where the kernel has it,
 * else the NFQUEUE delay stage per namespace plus the nftables ingress drop. Before any arm runs,
 * a UDP link check measures every condition (RTT, one-way delay and loss per direction).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { ToolChild, REPO_ROOT } from '../tools/lib/child.js';
import type { CleanupStack } from '../tools/lib/cleanup.js';
import { sleep } from '../tools/lib/clock.js';
import { detectNetem } from './impair.js';
import { EnvironmentError, NAME_PREFIX, checkPrerequisites, createTopology, newRunPrefix, destroyTopology, destroyTopologySync, type LinkEnd, type Topology } from './netns.js';
import { analyzeArm, analyzeRender, windowAges, windowStaleness } from './analyze.js';
import { FILES, appendRawCsv, cdfCondition, writeOutputs, type CdfData } from './report.js';
import { appendResultLine, quantiles } from './results-log.js';
import { mustRun } from './shell.js';
import { LinkShaper, planMechanism, type MechanismChoice, type StageFinals } from './delay/conditions.js';
import { NamespaceGuard } from './delay/guard.js';
import { runLinkCheck } from './delay/link-check.js';
import { resolveConditions, type JitterMode, type TcpCongestion } from './delay/params.js';
import { STANDARD_WORLD } from '../server/rooms/standard-scene.js';
import { CHROMIUM_PATH } from '../tools/lib/chromium.js';
import {
  ARMS, type ArmId, type ArmResult, type InterpRule, type BotsReport, type Condition, type FrameLog, type LinkCheck, type RunInfo, type Summary, type TruthLog, type WireBytes,
} from './types.js';

export interface ExperimentOptions {
  lossPcts: number[];
  /** Added RTTs in ms (0 = none added). */
  rttMs: number[];
  /** Jitter in ms per direction for every condition (default 0); capped at each condition's one-way delay. */
  jitterMs?: number;
  /** Jitter model (default `order`, see delay/params.ts). */
  jitterMode?: JitterMode;
  /** TCP congestion control in both namespaces (default `cubic`). */
  tcpCongestion?: TcpCongestion;
  /** Delay mechanism (default auto: netem where present, else the NFQUEUE stage). */
  mechanism?: MechanismChoice;
  /** Conditions at which a real Chromium page joins each arm beside the bots (default none). */
  browserAt?: Condition[];
  durationS: number;
  bots: number;
  seed: number;
  /** Seconds of play after every bot joined (delay in force, no loss yet) before the window. */
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
  /** UDP echo probes per condition for the link check (0 = skip it). */
  linkCheckProbes?: number;
  /** Tag in the run's namespace names (netns.ts NETNS_TAG_ENV; default none). */
  nsTag?: string;
  /** Keep every arm's frame and ground-truth logs in logs/ (large; default: removed once analysed). */
  keepRaw?: boolean;
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
  /**
   * The bots' interpolation delay rule, overriding the client's own (client/game/interpolation.ts
   * config `baseIntervals`, `lossResidual`): for comparing rules. Default: the client's rule.
   */
  interp?: InterpRule;
  /**
   * Switch loss on as soon as every bot has joined, so the warm-up runs with loss too and the
   * buffers' loss estimates have settled when the window starts (default: loss only in the window).
   */
  lossyWarmup?: boolean;
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
/** Probes per condition in the link check (2 ms apart): at 10 % loss the realised rate is known to about +/- 1 point. */
const LINK_CHECK_PROBES = 2000;
/** Chromium's page must be connected within this (it loads the bundle over the delayed link). */
const BROWSER_CONNECT_TIMEOUT_MS = 60_000;
/** The built demo page the arm's server serves to the browser check. */
const CLIENT_DIST = join(REPO_ROOT, 'client', 'dist');
/** The world the standard scene's bots walk in (the rendered error wraps at its edges). */
const WORLD = { w: STANDARD_WORLD.width, h: STANDARD_WORLD.height };

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

function sameCondition(a: Condition, b: Condition): boolean {
  return a.lossPct === b.lossPct && a.rttMs === b.rttMs;
}

/** The link conditions for one experiment condition (jitter capped at the one-way delay). */
function linkConditions(cond: Condition, opts: ExperimentOptions, lossPct: number) {
  return {
    rttMs: cond.rttMs,
    jitterMs: Math.min(opts.jitterMs ?? 0, cond.rttMs / 2),
    jitterMode: opts.jitterMode,
    lossPct,
    seed: opts.seed,
    tcpCongestion: opts.tcpCongestion,
  };
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** One arm under one condition (the link's delay already in force); returns the result and the raw samples for the CDFs. */
async function runArm(
  topo: Topology,
  shaper: LinkShaper,
  armId: ArmId,
  cond: Condition,
  opts: ExperimentOptions,
  cleanup: CleanupStack,
): Promise<{ result: ArmResult; ages: number[]; staleness: number[]; errors: number[] }> {
  const arm = ARMS[armId];
  const tag = `${armId}-loss${cond.lossPct}-rtt${cond.rttMs}`;
  const logs = join(opts.outDir, 'logs');
  const logFile = join(logs, `${tag}.log`);
  const reportFile = join(logs, `${tag}.bots.json`);
  const framesFile = join(logs, `${tag}.frames.json`);
  const truthFile = join(logs, `${tag}.truth.json`);
  const browserFile = join(logs, `${tag}.browser.json`);
  const withBrowser = (opts.browserAt ?? []).some((c) => sameCondition(c, cond));
  const children: ToolChild[] = [];
  try {
    await shaper.setLoss(0);
    const server = ToolChild.script('experiments/server-entry.ts', [
      '--host', topo.server.address, '--http-port', String(SERVER_HTTP_PORT), '--wt-port', String(SERVER_WT_PORT),
      '--snapshot-channel', arm.snapshotChannel, '--seed', String(opts.seed), '--truth', truthFile,
      ...(withBrowser ? ['--static-dir', CLIENT_DIST] : []),
    ], { label: `server(${tag})`, ns: topo.server.ns, logFile, nice: opts.nice, realtime: opts.realtime, cleanup });
    children.push(server);
    const ready = await server.waitFor('ready', SERVER_START_TIMEOUT_MS);
    const url = String(ready.url);

    const bots = ToolChild.script('experiments/bots-entry.ts', [
      '--url', url, '--transport', arm.transport, '--arm', armId, '--count', String(opts.bots), '--seed', String(opts.seed),
      '--chat-interval-ms', String(Math.round(opts.chatIntervalS * 1000)), '--report', reportFile, '--frames', framesFile,
      ...(opts.interp?.baseIntervals !== undefined ? ['--interp-base', String(opts.interp.baseIntervals)] : []),
      ...(opts.interp?.lossResidual !== undefined ? ['--interp-residual', String(opts.interp.lossResidual)] : []),
    ], { label: `bots(${tag})`, ns: topo.client.ns, logFile, nice: opts.nice, realtime: opts.realtime, cleanup });
    children.push(bots);
    // The page starts at normal priority: it renders, and must not take the CPU from the measured processes.
    const page = withBrowser
      ? ToolChild.script('experiments/browser-entry.ts', ['--url', url, '--transport', arm.transport, '--frames', browserFile], {
          label: `chromium(${tag})`, ns: topo.client.ns, logFile, cleanup,
        })
      : null;
    if (page) children.push(page);
    await bots.waitFor('connected', BOTS_CONNECT_TIMEOUT_MS);
    if (page) await page.waitFor('connected', BROWSER_CONNECT_TIMEOUT_MS);
    // Loss goes on after connection setup: the window measures steady play. With lossyWarmup
    // already for the warm-up, so adaptive buffers have seen the loss before the window.
    if (opts.lossyWarmup) await shaper.setLoss(cond.lossPct);
    await sleep(opts.warmupS * 1000);
    if (!opts.lossyWarmup) await shaper.setLoss(cond.lossPct);
    const s0 = await readTx(topo.server);
    const c0 = await readTx(topo.client);
    server.send({ cmd: 'mark' });
    const windowMs = Math.round(opts.durationS * 1000);
    bots.send({ cmd: 'start', windowMs, graceMs: CHAT_GRACE_MS });
    page?.send({ cmd: 'start', windowMs });
    await bots.waitFor('measured', opts.durationS * 1000 + PHASE_SLACK_MS);
    const s1 = await readTx(topo.server);
    const c1 = await readTx(topo.client);
    if (page) await page.waitFor('done', PHASE_SLACK_MS);
    server.send({ cmd: 'stats' });
    const kernel = await shaper.lossCounters();
    const load = await server.waitFor('stats', PHASE_SLACK_MS);
    await bots.waitFor('done', CHAT_GRACE_MS + PHASE_SLACK_MS);
    shaper.checkHealthy();
    await shaper.setLoss(0);

    const report = readJson<BotsReport>(reportFile);
    const truth = readJson<TruthLog>(truthFile);
    const frames = readJson<FrameLog>(framesFile);
    appendRawCsv(opts.outDir, cond, report);
    const { render, errors } = analyzeRender(frames, truth.values, WORLD, report.windowStart, report.windowEnd);
    let browser: ArmResult['browser'] = null;
    if (page) {
      const b = readJson<FrameLog & { transport: string | null; snapshots: number; windowStart: number; windowEnd: number; errors: string[] }>(browserFile);
      browser = { ...analyzeRender(b, truth.values, WORLD, b.windowStart, b.windowEnd).render, transport: b.transport, snapshots: b.snapshots, errors: b.errors.slice(0, 5) };
    }
    if (!opts.keepRaw) for (const f of [framesFile, truthFile, browserFile]) rmSync(f, { force: true });
    const result = analyzeArm(report, cond, { server: diff(s0, s1), client: diff(c0, c1) }, kernel, {
      loopDelayP99Ms: Number(load.loopDelayP99Ms),
      cpuPerSec: Number(load.cpuPerSec),
    }, render, browser);
    return { result, ages: windowAges(report), staleness: windowStaleness(report), errors };
  } finally {
    await Promise.all(children.map((c) => c.stop(CHILD_STOP_GRACE_MS)));
  }
}

/**
 * Run every condition x arm and write the outputs into `opts.outDir`. Namespaces, stages and
 * rules are removed on return, on error and (via `cleanup`, when the caller installed its
 * handlers) on Ctrl-C; a guard process removes the namespaces if this process is killed outright.
 */
export async function runExperiment(opts: ExperimentOptions, cleanup: CleanupStack): Promise<Summary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  await checkPrerequisites();
  if ((opts.browserAt ?? []).length > 0 && !existsSync(CHROMIUM_PATH)) {
    throw new EnvironmentError(`a browser condition was asked for, but ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
  }
  if ((opts.browserAt ?? []).length > 0 && !existsSync(join(CLIENT_DIST, 'index.html'))) {
    throw new EnvironmentError('a browser condition was asked for, but the demo page is not built: run `npm run build:client` first');
  }
  const netemAvailable = await detectNetem(`${NAME_PREFIX}${opts.nsTag ?? ''}`);
  mkdirSync(join(opts.outDir, 'logs'), { recursive: true });
  const startedAt = new Date().toISOString();
  const conditions: Condition[] = opts.rttMs.flatMap((rttMs) => opts.lossPcts.map((lossPct) => ({ lossPct, rttMs })));
  // The mechanism of the most demanding condition, for the report's header (each link check row has its own).
  const worst = conditions.reduce((a, b) => (b.rttMs > a.rttMs || (b.rttMs === a.rttMs && b.lossPct > a.lossPct) ? b : a), conditions[0]);
  const mechanism = planMechanism(resolveConditions(linkConditions(worst, opts, worst.lossPct)), netemAvailable, opts.mechanism ?? 'auto');
  log(`link: delay ${mechanism.delay}, loss ${mechanism.loss} (${mechanism.reason}); ${conditions.length} conditions x ${opts.arms.length} arms, ${opts.bots} bots, ${opts.durationS} s each; output ${opts.outDir}`);

  // The run's facts go first into the results file; every arm follows as soon as it is measured.
  const resultsFile = join(opts.outDir, FILES.resultsJsonl);
  rmSync(resultsFile, { force: true });
  const startInfo: Omit<RunInfo, 'finishedAt'> = {
    startedAt,
    command: opts.command,
    method: netemAvailable ? 'netem' : 'nftables',
    ...machineFacts(),
    seed: opts.seed,
    bots: opts.bots,
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    conditions,
    arms: opts.arms,
    snapshotHz: 20,
    nice: opts.nice ?? 0,
    realtime: opts.realtime ?? 0,
    jitterMs: opts.jitterMs ?? 0,
    jitterMode: opts.jitterMode ?? 'order',
    tcpCongestion: opts.tcpCongestion ?? 'cubic',
    mechanism,
    browserConditions: opts.browserAt ?? [],
    ...(opts.interp ? { interp: opts.interp } : {}),
    ...(opts.lossyWarmup ? { lossyWarmup: true } : {}),
  };
  appendResultLine(resultsFile, { kind: 'start', info: startInfo });

  const guard = NamespaceGuard.start();
  const topo = await createTopology(newRunPrefix(opts.nsTag));
  guard.watch(topo);
  const untrack = cleanup.push({
    label: `namespaces ${topo.prefix}`,
    run: () => destroyTopology(topo),
    runSync: () => destroyTopologySync(topo),
  });
  log(`namespaces: ${topo.server.ns} (server, ${topo.server.address}), ${topo.client.ns} (bots, ${topo.client.address})`);
  const results: ArmResult[] = [];
  const linkCheck: LinkCheck[] = [];
  const stages: Array<{ condition: Condition; finals: StageFinals }> = [];
  const cdf = cdfCondition(conditions);
  const cdfData: CdfData = { condition: cdf, ages: new Map(), staleness: new Map(), errors: new Map() };
  let snapshotHz = 20;
  const shaper = await LinkShaper.open(topo, {
    mechanism: opts.mechanism ?? 'auto', cleanup, netemAvailable, logFile: join(opts.outDir, 'logs', 'stages.log'),
  });
  try {
    const probes = opts.linkCheckProbes ?? LINK_CHECK_PROBES;
    if (probes > 0) {
      for (const cond of conditions) {
        const applied = await shaper.apply(linkConditions(cond, opts, cond.lossPct));
        const r = await runLinkCheck(topo, {
          probes, expectedRttMs: cond.rttMs, realtime: opts.realtime, logFile: join(opts.outDir, 'logs', 'link-check.log'),
        });
        shaper.checkHealthy();
        const check: LinkCheck = {
          condition: cond, probes, upLossPct: r.up.lossPct, downLossPct: r.down.lossPct, mechanism: applied.mechanism,
          tcpCongestion: { server: applied.tcpCongestion.server, client: applied.tcpCongestion.client }, result: r,
        };
        linkCheck.push(check);
        appendResultLine(resultsFile, { kind: 'link', check });
        log(`link check at RTT +${cond.rttMs} ms, ${cond.lossPct}%: RTT p50 ${r.rttMs.p50.toFixed(1)} p99 ${r.rttMs.p99.toFixed(1)} ms, loss ${r.up.lossPct.toFixed(1)}% up, ${r.down.lossPct.toFixed(1)}% down (${applied.mechanism.delay}/${applied.mechanism.loss})`);
      }
      await shaper.clear();
    }
    for (const cond of conditions) {
      // Delay and jitter stay in force for every arm of the condition, connection setup included;
      // loss is switched per window (setLoss), so the stages never restart under an arm.
      await shaper.apply(linkConditions(cond, opts, 0));
      try {
        for (const arm of opts.arms) {
          log(`- RTT +${cond.rttMs} ms, loss ${cond.lossPct}%, ${ARMS[arm].label}...`);
          const { result, ages, staleness, errors } = await runArm(topo, shaper, arm, cond, opts, cleanup);
          results.push(result);
          snapshotHz = result.snapshotHz;
          const atCdf = cdf !== null && sameCondition(cond, cdf);
          if (atCdf) {
            cdfData.ages.set(arm, ages);
            cdfData.staleness.set(arm, staleness);
            cdfData.errors.set(arm, errors);
          }
          appendResultLine(resultsFile, {
            kind: 'arm', result, ...(atCdf ? { cdf: { ages: quantiles(ages), staleness: quantiles(staleness), errors: quantiles(errors) } } : {}),
          });
          const rr = result.render;
          log(`  staleness p99 ${result.stalenessMs.p99.toFixed(1)} ms, rendered error p50 ${rr?.errorUnits.p50.toFixed(1)} p99 ${rr?.errorUnits.p99.toFixed(1)}, extrapolating ${(100 * (rr?.extrapolateShare ?? 0)).toFixed(1)}%, delay ${rr?.interpDelayEndMs.toFixed(0)} ms, chat ${result.chat.delivered}/${result.chat.expected} dup ${result.chat.duplicates}${result.browser ? `; browser error p50 ${result.browser.errorUnits.p50.toFixed(1)} p99 ${result.browser.errorUnits.p99.toFixed(1)}` : ''}`);
        }
      } finally {
        const finals = await shaper.clear();
        stages.push({ condition: cond, finals });
        appendResultLine(resultsFile, { kind: 'stages', condition: cond, finals });
      }
    }
  } finally {
    await shaper.clear();
    await destroyTopology(topo);
    untrack();
    guard.forget(topo);
    await guard.close();
  }
  const info: RunInfo = { ...startInfo, snapshotHz, finishedAt: new Date().toISOString() };
  appendResultLine(resultsFile, { kind: 'end', finishedAt: info.finishedAt, snapshotHz });
  const summary: Summary = { info, linkCheck, results, stages };
  writeOutputs(opts.outDir, summary, cdfData);
  writeFileSync(join(opts.outDir, 'topology.json'), `${JSON.stringify({ prefix: topo.prefix, server: topo.server, client: topo.client }, null, 2)}\n`);
  return summary;
}
