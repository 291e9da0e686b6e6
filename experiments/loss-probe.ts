/**
 * Measures what the impaired link really does, with a plain UDP and TCP echo pair between the two
 * namespaces (no game code involved): UDP loss each way from sequence-numbered probes, and a TCP
 * transfer that must arrive intact. The harness runs it before each experiment so the report
 * shows the realised loss next to the configured one.
 */
import { ToolChild } from '../tools/lib/child.js';
import type { Topology } from './netns.js';
import type { DirectionCounters, LinkImpairer } from './impair.js';

export interface LossProbeResult {
  udp: {
    sent: number;
    /** Probes that reached the echo server (client->server direction). */
    reachedServer: number;
    /** Echoes that came back (server->client direction, out of those that reached the server). */
    echoedBack: number;
    duplicates: number;
    upLossPct: number;
    downLossPct: number;
  };
  /** null when the probe ran without a TCP transfer (`tcpBytes: 0`). */
  tcp: { ok: boolean; bytes: number; elapsedMs: number | null } | null;
  /** The kernel's own drop/pass counters for the whole probe (UDP + TCP). */
  kernel: DirectionCounters[];
}

export interface LossProbeOptions {
  udpProbes?: number;
  tcpBytes?: number;
  logFile?: string;
  /** SCHED_FIFO priority for the echo processes (see tools/lib/child.ts), so a loaded CPU cannot drop probes. */
  realtime?: number;
}

const UDP_PORT = 40_001;
const TCP_PORT = 40_002;
/** Generous bounds: a probe run is a second or two; these only stop a hung child. */
const START_TIMEOUT_MS = 15_000;
const RESULT_TIMEOUT_MS = 90_000;

function pct(lost: number, of: number): number {
  return of > 0 ? (100 * lost) / of : 0;
}

/** Run the UDP and TCP echo probes across `topo` under whatever `impairer` currently applies. */
export async function probeLoss(topo: Topology, impairer: LinkImpairer | null, opts: LossProbeOptions = {}): Promise<LossProbeResult> {
  const udpProbes = opts.udpProbes ?? 3000;
  const tcpBytes = opts.tcpBytes ?? 2_000_000;
  const host = topo.server.address;
  const children: ToolChild[] = [];
  const start = (ns: string, label: string, args: string[]) => {
    const c = ToolChild.script('experiments/echo-entry.ts', args, { label, ns, logFile: opts.logFile, realtime: opts.realtime });
    children.push(c);
    return c;
  };
  try {
    const udpSrv = start(topo.server.ns, 'udp-echo-server', ['--mode', 'udp-server', '--host', host, '--port', String(UDP_PORT)]);
    const tcpSrv = tcpBytes > 0 ? start(topo.server.ns, 'tcp-echo-server', ['--mode', 'tcp-server', '--host', host, '--port', String(TCP_PORT)]) : null;
    await Promise.all([udpSrv.waitFor('ready', START_TIMEOUT_MS), tcpSrv?.waitFor('ready', START_TIMEOUT_MS)]);

    // Baseline the kernel counters by re-reading after: the impairer's counters are cumulative
    // since its last apply, so take the difference.
    const before = impairer ? await impairer.counters() : [];

    const udpCli = start(topo.client.ns, 'udp-echo-client', ['--mode', 'udp-client', '--host', host, '--port', String(UDP_PORT), '--count', String(udpProbes), '--interval-ms', '1']);
    const udpRes = await udpCli.waitFor('result', RESULT_TIMEOUT_MS);
    udpSrv.send({ cmd: 'stats' });
    const srvStats = await udpSrv.waitFor('stats', START_TIMEOUT_MS);

    let tcp: LossProbeResult['tcp'] = null;
    if (tcpBytes > 0) {
      const tcpCli = start(topo.client.ns, 'tcp-echo-client', ['--mode', 'tcp-client', '--host', host, '--port', String(TCP_PORT), '--bytes', String(tcpBytes)]);
      const tcpRes = await tcpCli.waitFor('result', RESULT_TIMEOUT_MS);
      tcp = {
        ok: tcpRes.ok === true,
        bytes: Number(tcpRes.receivedBytes),
        elapsedMs: typeof tcpRes.elapsedMs === 'number' ? tcpRes.elapsedMs : null,
      };
    }

    const after = impairer ? await impairer.counters() : [];
    const kernel = after.map((a) => {
      const b = before.find((x) => x.direction === a.direction);
      return { direction: a.direction, dropped: a.dropped - (b?.dropped ?? 0), passed: a.passed - (b?.passed ?? 0) };
    });

    const sent = Number(udpRes.sent);
    const reachedServer = Number(srvStats.received) - Number(srvStats.duplicates);
    const echoedBack = Number(udpRes.echoed);
    return {
      udp: {
        sent,
        reachedServer,
        echoedBack,
        duplicates: Number(srvStats.duplicates) + Number(udpRes.duplicates),
        upLossPct: pct(sent - reachedServer, sent),
        downLossPct: pct(reachedServer - echoedBack, reachedServer),
      },
      tcp,
      kernel,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop(1000)));
  }
}
