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
import { cliArgs, flag, parseFlags } from '../../tools/lib/args.js';
import { ToolChild } from '../../tools/lib/child.js';
import { CleanupStack } from '../../tools/lib/cleanup.js';
import { EnvironmentError, checkPrerequisites, createTopology, netnsTag, newRunPrefix, destroyTopology, destroyTopologySync, type Topology } from '../netns.js';
import { LinkShaper } from './conditions.js';
import { NamespaceGuard } from './guard.js';
import { runLinkCheck } from './link-check.js';
import { JITTER_DISTS, JITTER_MODES, MAX_ONE_WAY_MS, MAX_SEED, TCP_CONGESTION } from './params.js';

const USAGE = `usage: npx tsx experiments/delay/check.ts --rtt 0,50,100,200 [--jitter MS] [--jitter-mode order|reorder]
       [--jitter-dist uniform|normal] [--loss PCT] [--probes 1000] [--interval-ms 2]
       [--mechanism auto|netem|nfqueue] [--cc cubic|bbr] [--rt 15] [--seed N] [--tcp-bytes N]
       [--samples-dir DIR]`;

const FLAGS = {
  rtt: flag.numbers(0, 2 * MAX_ONE_WAY_MS),
  jitter: flag.number(0, MAX_ONE_WAY_MS),
  'jitter-mode': flag.choice(JITTER_MODES),
  'jitter-dist': flag.choice(JITTER_DISTS),
  loss: flag.number(0, 100),
  probes: flag.int(1, 200_000),
  'interval-ms': flag.number(0.1, 60_000),
  mechanism: flag.choice(['auto', 'netem', 'nfqueue'] as const),
  cc: flag.choice(TCP_CONGESTION),
  rt: flag.int(0, 99),
  seed: flag.int(0, MAX_SEED),
  'tcp-bytes': flag.int(0, 256 * 1024 * 1024),
  'samples-dir': flag.string(),
};

/** Bounds for the optional TCP transfer (the echo client gives up after 60 s itself). */
const TCP_PORT = 40_012;
const TCP_TIMEOUT_MS = 90_000;

/** N bytes to the server's namespace and back over TCP; time and goodput (both directions' bytes). */
async function tcpTransfer(topo: Topology, bytes: number): Promise<{ ok: boolean; bytes: number; elapsedMs: number; mbitPerSec: number }> {
  const host = topo.server.address;
  const script = 'experiments/echo-entry.ts';
  const srv = ToolChild.script(script, ['--mode', 'tcp-server', '--host', host, '--port', String(TCP_PORT)], { label: 'tcp echo server', ns: topo.server.ns });
  try {
    await srv.waitFor('ready', 15_000);
    const cli = ToolChild.script(script, ['--mode', 'tcp-client', '--host', host, '--port', String(TCP_PORT), '--bytes', String(bytes)], {
      label: 'tcp echo client',
      ns: topo.client.ns,
    });
    const r = await cli.waitFor('result', TCP_TIMEOUT_MS);
    await cli.stop(1000);
    const elapsedMs = Number(r.elapsedMs);
    return { ok: r.ok === true, bytes, elapsedMs, mbitPerSec: (2 * bytes * 8) / (elapsedMs * 1000) };
  } finally {
    await srv.stop(1000);
  }
}

async function main(): Promise<void> {
  const { values: a } = cliArgs(() => parseFlags(process.argv.slice(2), FLAGS), USAGE);
  const rtts = a.rtt ?? [0, 50, 100, 200];
  const realtime = a.rt ?? 15;
  const probes = a.probes ?? 1000;
  const intervalMs = a['interval-ms'] ?? 2;
  const tcpBytes = a['tcp-bytes'] ?? 0;
  const samplesDir = a['samples-dir'];
  if (samplesDir) mkdirSync(samplesDir, { recursive: true });

  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers();
  await checkPrerequisites();
  const guard = NamespaceGuard.start();
  try {
    for (const rttMs of rtts) {
      const topo = await createTopology(newRunPrefix(netnsTag(process.env)));
      guard.watch(topo);
      const untrack = cleanup.push({ label: `namespaces ${topo.prefix}`, run: () => destroyTopology(topo), runSync: () => destroyTopologySync(topo) });
      try {
        const shaper = await LinkShaper.open(topo, { mechanism: a.mechanism ?? 'auto', cleanup });
        const applied = await shaper.apply({
          rttMs,
          jitterMs: a.jitter ?? 0,
          jitterMode: a['jitter-mode'],
          jitterDist: a['jitter-dist'],
          lossPct: a.loss ?? 0,
          tcpCongestion: a.cc,
          seed: a.seed,
        });
        const samplesFile = samplesDir ? join(samplesDir, `link-check-rtt${rttMs}.csv`) : undefined;
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
