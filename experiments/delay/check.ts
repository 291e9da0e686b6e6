/**
 * Measure the link the experiment would get, without the game: for each configured RTT, apply
 * the conditions to a fresh pair of namespaces, run the link check, and print one JSON line with
 * what was asked, what ran (netem or the NFQUEUE stage, and why), what the probes measured, and
 * the stages' own counters (verdict lateness, CPU). Needs root.
 *
 *   npx tsx experiments/delay/check.ts --rtt 0,50,100,200 [--jitter 0] [--jitter-mode order|reorder]
 *       [--jitter-dist uniform|normal] [--loss 0] [--probes 1000] [--interval-ms 2]
 *       [--mechanism auto|netem|nfqueue] [--cc cubic|bbr] [--rt 15] [--seed N] [--tcp-bytes N]
 *       [--samples-dir DIR]
 *
 * --rt: SCHED_FIFO priority of the probe processes (default 15: below the stages' 20, above the
 * harness's usual 10); 0 = normal scheduling.
 * --samples-dir DIR writes every probe echo of each RTT to DIR/link-check-rtt<RTT>.csv.
 * --tcp-bytes N also sends N bytes over TCP through the link and back (the harness's TCP echo)
 * and reports the time and goodput: a check that holding at ingress does not starve TCP.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CleanupStack } from '../cleanup.js';
import { NsChild, parseArgs } from '../child.js';
import { EnvironmentError, checkPrerequisites, createTopology, destroyTopology, destroyTopologySync, type Topology } from '../netns.js';
import { LinkShaper, type MechanismChoice } from './conditions.js';
import { NamespaceGuard } from './guard.js';
import { runLinkCheck } from './link-check.js';
import type { JitterDist, JitterMode, TcpCongestion } from './params.js';

const USAGE = `usage: npx tsx experiments/delay/check.ts --rtt 0,50,100,200 [--jitter MS] [--jitter-mode order|reorder]
       [--jitter-dist uniform|normal] [--loss PCT] [--probes 1000] [--interval-ms 2]
       [--mechanism auto|netem|nfqueue] [--cc cubic|bbr] [--rt 15] [--seed N] [--tcp-bytes N]
       [--samples-dir DIR]`;

function numbers(v: string | undefined, dflt: number[]): number[] {
  if (v === undefined) return dflt;
  const list = v.split(',').map((x) => Number(x.trim()));
  if (list.some((n) => !Number.isFinite(n))) throw new Error(`not a number list: ${v}`);
  return list;
}

/** Bounds for the optional TCP transfer (the echo client gives up after 60 s itself). */
const TCP_PORT = 40_012;
const TCP_TIMEOUT_MS = 90_000;

/** N bytes to the server's namespace and back over TCP; time and goodput (both directions' bytes). */
async function tcpTransfer(topo: Topology, bytes: number): Promise<{ ok: boolean; bytes: number; elapsedMs: number; mbitPerSec: number }> {
  const host = topo.server.address;
  const srv = NsChild.start(topo.server.ns, 'experiments/echo-entry.ts', ['--mode', 'tcp-server', '--host', host, '--port', String(TCP_PORT)], { label: 'tcp echo server' });
  try {
    await srv.waitFor('ready', 15_000);
    const cli = NsChild.start(topo.client.ns, 'experiments/echo-entry.ts', ['--mode', 'tcp-client', '--host', host, '--port', String(TCP_PORT), '--bytes', String(bytes)], { label: 'tcp echo client' });
    const r = await cli.waitFor('result', TCP_TIMEOUT_MS);
    await cli.stop(1000);
    const elapsedMs = Number(r.elapsedMs);
    return { ok: r.ok === true, bytes, elapsedMs, mbitPerSec: (2 * bytes * 8) / (elapsedMs * 1000) };
  } finally {
    await srv.stop(1000);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.length % 2 !== 0) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(argv.includes('--help') ? 0 : 2);
  }
  const a = parseArgs(argv);
  const known = new Set(['rtt', 'jitter', 'jitter-mode', 'jitter-dist', 'loss', 'probes', 'interval-ms', 'mechanism', 'cc', 'rt', 'seed', 'tcp-bytes', 'samples-dir']);
  for (const k of a.keys()) {
    if (!known.has(k)) {
      process.stderr.write(`unknown option --${k}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  const rtts = numbers(a.get('rtt'), [0, 50, 100, 200]);
  const realtime = Number(a.get('rt') ?? 15);
  const probes = Number(a.get('probes') ?? 1000);
  const intervalMs = Number(a.get('interval-ms') ?? 2);
  const tcpBytes = Number(a.get('tcp-bytes') ?? 0);

  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers();
  await checkPrerequisites();
  const guard = NamespaceGuard.start();
  try {
    for (const rttMs of rtts) {
      const topo = await createTopology();
      guard.watch(topo);
      const untrack = cleanup.push({ label: `namespaces ${topo.prefix}`, run: () => destroyTopology(topo), runSync: () => destroyTopologySync(topo) });
      try {
        const shaper = await LinkShaper.open(topo, { mechanism: (a.get('mechanism') ?? 'auto') as MechanismChoice, cleanup });
        const applied = await shaper.apply({
          rttMs,
          jitterMs: Number(a.get('jitter') ?? 0),
          jitterMode: a.get('jitter-mode') as JitterMode | undefined,
          jitterDist: a.get('jitter-dist') as JitterDist | undefined,
          lossPct: Number(a.get('loss') ?? 0),
          tcpCongestion: a.get('cc') as TcpCongestion | undefined,
          seed: a.has('seed') ? Number(a.get('seed')) : undefined,
        });
        const samplesDir = a.get('samples-dir');
        const samplesFile = samplesDir ? join(samplesDir, `link-check-rtt${rttMs}.csv`) : undefined;
        if (samplesDir) mkdirSync(samplesDir, { recursive: true });
        const linkCheck = await runLinkCheck(topo, { probes, intervalMs, expectedRttMs: rttMs, realtime, samplesFile });
        const tcp = tcpBytes > 0 ? await tcpTransfer(topo, tcpBytes) : null;
        shaper.checkHealthy();
        const lossCounters = await shaper.lossCounters();
        const stages = await shaper.clear();
        process.stdout.write(`${JSON.stringify({ rttMs, applied, linkCheck, tcp, lossCounters, stages })}\n`);
      } finally {
        await destroyTopology(topo);
        untrack();
        guard.forget(topo);
      }
    }
  } finally {
    await cleanup.runAll();
    await guard.close();
  }
}

main().catch((err) => {
  process.stderr.write(`delay check: ${(err as Error).message}\n`);
  process.exit(err instanceof EnvironmentError ? err.exitCode : 1);
});
