/**
 * `npm run soak`: honest bots over both transports with loss and reconnects, and a running
 * attack mix beside them, against one server; reports memory over time, what leaked, chat lost
 * or repeated, and the refusal counters each attack moved (issue 10). Flags: plan.ts.
 *
 * Processes (tools/lib/child.ts): the server (server-entry.ts, in the server namespace with
 * `--expose-gc`), the bots and probes (bots-entry.ts), and per wave one attack process per kind
 * (attack-entry.ts; the smoke runs all kinds in one). Every loop here is bounded by the plan's
 * times; every child and the namespaces are torn down however the run ends (CleanupStack).
 *
 * Output: JSON lines on stdout (and --out), progress and a Markdown summary on stderr. Exit 0
 * when every invariant held (verdict.ts), 1 when one failed, 2 on a bad command line, 3 when
 * `--net netns` was asked for and cannot run here.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { cliArgs } from '../../tools/lib/args.js';
import { ToolChild } from '../../tools/lib/child.js';
import { CleanupStack } from '../../tools/lib/cleanup.js';
import { epochNow, sleep } from '../../tools/lib/clock.js';
import { writeJsonLine } from '../../tools/lib/json-lines.js';
import { EnvironmentError } from '../../experiments/netns.js';
import { attackOf } from './attacks/index.js';
import { netnsAvailable, setupNetwork, type SoakNetwork } from './network.js';
import { parsePlan, USAGE, type SoakPlan } from './plan.js';
import { refusalDelta, type AttackReport, type BotsProgress, type BotsReport, type ProbeResult, type ServerSample } from './samples.js';
import { attackCounters, checks, leftovers, isQuiet, summariseMemory, summariseProbes, type Check } from './verdict.js';

/** Longest the server may take to say ready, and the bots to join. */
const SERVER_READY_TIMEOUT_MS = 30_000;
const BOTS_JOINED_TIMEOUT_MS = 90_000;
/** Longest a sample or a progress answer may take (a forced GC on a busy machine is slow). */
const ANSWER_TIMEOUT_MS = 30_000;
/** The bots' final report: their settle times (bots-entry.ts) and a margin. */
const BOTS_REPORT_TIMEOUT_MS = 60_000;
/** After the play, attack processes still winding down get this long (attack-entry's own cut is 25 s). */
const ATTACK_EXIT_TIMEOUT_MS = 45_000;
/** The harness's loop step. */
const TICK_MS = 250;
/** While waiting for quiet, the server is sampled this often. */
const QUIESCE_POLL_MS = 1_000;

type Line = Record<string, unknown> & { kind: string };

interface Running {
  child: ToolChild;
  kinds: string[];
  wave: number;
}

const mib = (b: number) => Math.round(b / 1048576 * 10) / 10;

export async function runSoak(plan: SoakPlan, cleanup: CleanupStack, print: (line: Line) => void, say: (text: string) => void): Promise<Check[]> {
  const mode = plan.net === 'auto' ? ((await netnsAvailable()) ? 'netns' : 'loopback') : plan.net;
  const attackers = plan.processPerAttack ? plan.attacks.length * plan.sourcesPerAttack : Math.max(plan.attacks.length, 1) * plan.sourcesPerAttack;
  const net: SoakNetwork = await setupNetwork(mode, { bots: plan.botsPerTransport * 2, probes: plan.probeAddresses, attackers }, plan.lossPct, cleanup);
  const a = net.addresses;
  print({
    kind: 'config',
    plan,
    network: { mode: net.mode, lossMethod: net.lossMethod, server: a.server, bots: a.bots.length, probes: a.probes.length, attackers: a.attackers.length },
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryMiB: mib(totalmem()), kernel: release(), node: process.version },
  });
  say(`soak: ${net.mode}, ${plan.botsPerTransport}+${plan.botsPerTransport} bots, ${plan.lossPct} % loss, ${plan.playMs / 1000} s of play, ${plan.waves.length} attack wave(s) of ${plan.waveMs / 1000} s: ${plan.attacks.join(', ')}`);

  const server = ToolChild.script('bench/soak/server-entry.ts', [
    '--host', a.server, '--loss', String(plan.lossPct / 100), '--seed', String(plan.seed), '--rooms', plan.rooms.join(','),
    ...(plan.shortTimings ? ['--short-timings'] : []),
  ], { label: 'server', ns: net.serverNs, nodeFlags: ['--expose-gc'], cleanup });
  const ready = await server.waitFor('ready', SERVER_READY_TIMEOUT_MS);
  const url = String(ready.url);
  const samples: ServerSample[] = [];
  const takeSample = async (): Promise<ServerSample> => {
    server.send({ cmd: 'sample' });
    const s = await server.waitFor('sample', ANSWER_TIMEOUT_MS) as unknown as ServerSample;
    samples.push(s);
    return s;
  };
  const printSample = (s: ServerSample, phase: string) => print({
    kind: 'sample', phase, t: s.t, rssMiB: mib(s.rssBytes), heapUsedMiB: mib(s.heapUsedBytes), heapTotalMiB: mib(s.heapTotalBytes), heapCodeMiB: mib(s.heapCodeBytes),
    externalMiB: mib(s.externalBytes), sessions: s.sessions, rooms: s.rooms, roomPlayers: s.roomPlayers, webTransport: s.webTransport, httpSockets: s.httpSockets,
  });
  const baseline = await takeSample();
  printSample(baseline, 'start');

  const half = plan.botsPerTransport;
  const bots = ToolChild.script('bench/soak/bots-entry.ts', [
    '--url', url, '--wt-addresses', a.bots.slice(0, half).join(','), '--ws-addresses', a.bots.slice(half).join(','),
    '--probe-addresses', a.probes.join(','), '--room', plan.rooms[0],
    '--reconnect-every-ms', plan.reconnectEveryMs.join(','), '--chat-every-ms', plan.chatEveryMs.join(','),
    '--probe-every-ms', String(plan.probeEveryMs), '--seed', String(plan.seed),
  ], { label: 'bots', ns: net.clientNs, cleanup, echo: false });
  const joined = await bots.waitFor('joined', BOTS_JOINED_TIMEOUT_MS);
  say(`bots: ${String(joined.joined)} of ${String(joined.bots)} joined in ${String(joined.elapsedMs)} ms`);

  const playStart = epochNow();
  const playEnd = playStart + plan.playMs;
  const probes: ProbeResult[] = [];
  const attackReports: AttackReport[] = [];
  const running: Running[] = [];
  let nextWave = 0;
  let nextSample = playStart;
  let nextProgress = playStart + plan.progressEveryMs;
  let firstWaveAt: number | null = null;

  const collectProbes = () => {
    for (const p of bots.take('probe')) {
      const r = p as unknown as ProbeResult;
      probes.push(r);
      print({ kind: 'probe', ...r });
    }
  };
  const collectAttacks = async () => {
    for (const r of [...running]) {
      if (!r.child.hasExited) continue;
      running.splice(running.indexOf(r), 1);
      const got = r.child.take('attack') as unknown as AttackReport[];
      for (const rep of got) {
        attackReports.push(rep);
        print({ ...rep, kind: 'attack', attack: rep.kind, wave: r.wave });
      }
      const info = await r.child.exited;
      if (got.length < r.kinds.length) say(`attack ${r.kinds.join(',')} wave ${r.wave}: exit ${info.code ?? info.signal}, ${got.length} of ${r.kinds.length} reports\n${r.child.recentOutput(5)}`);
    }
  };
  const startWave = (wave: number) => {
    const groups = plan.processPerAttack ? plan.attacks.map((k) => [k]) : [plan.attacks];
    groups.forEach((kinds, g) => {
      const per = plan.sourcesPerAttack * kinds.length;
      running.push({
        wave,
        kinds,
        child: ToolChild.script('bench/soak/attack-entry.ts', [
          '--kinds', kinds.join(','), '--url', url, '--wt-url', String(ready.webTransportUrl), '--cert-sha256', String(ready.certificateSha256),
          '--rooms', plan.rooms.join(','), '--sources', a.attackers.slice(g * per, (g + 1) * per).join(','),
          '--seconds', String(plan.waveMs / 1000), '--seed', String(plan.seed + wave * 100 + g),
        ], { label: `attack ${kinds.join(',')} #${wave}`, ns: net.clientNs, cleanup }),
      });
    });
    say(`wave ${wave + 1}/${plan.waves.length}: ${plan.attacks.join(', ')} for ${plan.waveMs / 1000} s`);
  };

  while (epochNow() < playEnd) {
    const now = epochNow();
    if (nextWave < plan.waves.length && now >= playStart + plan.waves[nextWave]) {
      firstWaveAt ??= now;
      startWave(nextWave++);
    }
    if (now >= nextSample) {
      nextSample += plan.sampleEveryMs;
      printSample(await takeSample(), running.length ? 'attack' : 'play');
    }
    if (now >= nextProgress) {
      nextProgress += plan.progressEveryMs;
      bots.send({ cmd: 'progress' });
      const p = await bots.waitFor('progress', ANSWER_TIMEOUT_MS) as unknown as BotsProgress;
      const last = samples[samples.length - 1];
      print({ kind: 'progress', ...p });
      say(`${Math.round((now - playStart) / 1000)} s: ${p.connected}/${p.bots} bots, snapshots min ${p.snapshotsMin} median ${p.snapshotsMedian}, ${p.reconnects} reconnects, ${probes.length} probes (${probes.filter((x) => !x.ok).length} failed), server ${mib(last.rssBytes)} MiB RSS, ${mib(last.heapUsedBytes)} MiB heap, ${last.sessions.total} sessions, ${running.length} attack process(es)`);
    }
    collectProbes();
    await collectAttacks();
    await sleep(Math.max(0, Math.min(TICK_MS, playEnd - epochNow())));
  }
  const lastPlaySample = await takeSample();
  printSample(lastPlaySample, 'end');

  // The end: attacks wind down, then the bots finish and leave.
  const attackDeadline = epochNow() + ATTACK_EXIT_TIMEOUT_MS;
  while (running.some((r) => !r.child.hasExited) && epochNow() < attackDeadline) await sleep(TICK_MS);
  for (const r of running) if (!r.child.hasExited) await r.child.stop();
  await collectAttacks();
  bots.send({ cmd: 'finish' });
  let botsReport: BotsReport | null = null;
  try {
    botsReport = await bots.waitFor('report', BOTS_REPORT_TIMEOUT_MS) as unknown as BotsReport;
    print({ kind: 'bots', ...botsReport });
  } catch (err) {
    say(`bots: ${(err as Error).message}`);
  }
  collectProbes();
  await bots.stop();

  // Quiet: every client is gone; the server must drop to zero everywhere within the timeout.
  const quiesceStart = epochNow();
  let quiet: ServerSample | null = null;
  let last = await takeSample();
  while (!isQuiet(leftovers(last)) && epochNow() - quiesceStart < plan.quiesceTimeoutMs) {
    await sleep(QUIESCE_POLL_MS);
    last = await takeSample();
  }
  quiet = last;
  printSample(quiet, 'quiesced');
  const refusals = refusalDelta(baseline.refusals, quiet.refusals);
  const memory = summariseMemory(samples.filter((s) => s !== quiet), quiet, { playStart, playEnd, warmupMs: plan.warmupMs, windowMs: plan.memoryWindowMs, firstWaveAt });
  const attacks = plan.attacks.map((k) => {
    const at = attackOf(k);
    return attackCounters(k, at.what, at.expects, attackReports, refusals);
  });
  const probeSummary = summariseProbes(probes);
  const left = leftovers(quiet);
  const tcpLoss = await net.tcpLossCounters().catch(() => []);
  await server.stop();
  await net.teardown();
  print({
    kind: 'final',
    memory,
    leftovers: left,
    quiesceMs: epochNow() - quiesceStart,
    refusals,
    attacks,
    probes: probeSummary,
    loss: { udpLinkSim: quiet.webTransport ? { lost: quiet.webTransport.linkSimLost, sent: quiet.webTransport.linkSimSent } : null, tcp: tcpLoss },
    peerBytesPeak: quiet.webTransport?.peerBytesPeak ?? 0,
  });
  const result = checks({ memory, left, bots: botsReport, probes: probeSummary, attacks });
  print({ kind: 'summary', ok: result.every((c) => c.ok), checks: result });
  say(markdown(plan, net, memory, botsReport, probeSummary, attacks, refusals, result));
  return result;
}

function markdown(plan: SoakPlan, net: SoakNetwork, m: ReturnType<typeof summariseMemory>, b: BotsReport | null, p: ReturnType<typeof summariseProbes>, attacks: ReturnType<typeof attackCounters>[], refusals: ReturnType<typeof refusalDelta>, result: Check[]): string {
  const mem = (x: { rssBytes: number; heapUsedBytes: number } | null) => (x ? `${mib(x.rssBytes)} / ${mib(x.heapUsedBytes)}` : '-');
  const lines = [
    '', `## Soak: ${plan.playMs / 60_000} min, ${net.mode}, ${plan.botsPerTransport}+${plan.botsPerTransport} bots, ${plan.lossPct} % loss`, '',
    '| memory (MiB RSS / heap after GC, compiled code excluded) | |', '|---|---|',
    `| start | ${mem(m.start)} |`, `| warm | ${mem(m.warm)} |`, `| end | ${mem(m.end)} |`, `| after every client left | ${mem(m.quiesced)} |`, `| peak | ${mem(m.peak)} |`,
    `| growth warm to end | RSS ${m.growthPct.rss} %, heap ${m.growthPct.heap} % |`, '',
    b ? `Bots: ${b.bots}, ${b.drops} drops, ${b.resumes} resumes, ${b.resumeFailures} new sessions; chat ${b.chat.sent} sent, ${b.chat.received} received, ${b.chat.missing} lost, ${b.chat.repeated} repeated.` : 'Bots: no report.',
    `Probes: ${p.count - p.failures} of ${p.count} joined; median ${p.medianMs ?? '-'} ms, p95 ${p.p95Ms ?? '-'} ms, max ${p.maxMs ?? '-'} ms.`, '',
    '| attack | waves | its counts | expected counters moved |', '|---|---|---|---|',
    ...attacks.map((x) => `| ${x.kind} | ${x.waves} | ${Object.entries(x.counts).map(([k, v]) => `${k} ${v}`).join(', ')} | ${x.moved.join(', ') || '-'} of ${x.expected.join(', ')} |`), '',
    `Refusals (run delta): ${refusals.map((r) => `${r.layer} ${r.reason} ${r.count}`).join(', ') || 'none'}`, '',
    ...result.map((c) => `- ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`), '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const plan = cliArgs(() => parsePlan(process.argv.slice(2)), USAGE);
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers((signal) => `\n${signal}: stopping the soak's processes and removing its namespaces...`);
  const file: WriteStream | null = plan.out ? createWriteStream(plan.out) : null;
  const print = (line: Line) => {
    writeJsonLine(line);
    if (file) writeJsonLine(line, file);
  };
  try {
    const result = await runSoak(plan, cleanup, print, (t) => process.stderr.write(`${t}\n`));
    await new Promise<void>((resolve) => (file ? file.end(resolve) : resolve()));
    process.exit(result.every((c) => c.ok) ? 0 : 1);
  } catch (err) {
    await cleanup.runAll();
    if (err instanceof EnvironmentError) {
      process.stderr.write(`soak: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

// Only when run as the CLI, so tests can import runSoak.
if (process.argv[1] && /soak[\\/]run\.ts$/.test(process.argv[1])) void main();

