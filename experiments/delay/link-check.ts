/**
 * The link check: before the arms run, measure what the link really does under the conditions
 * in force. UDP probes go from the bots' namespace to a responder in the server's namespace and
 * back; each carries its send time and the responder's receive and send times, so the result
 * has the round-trip time, the one-way delay each way, and the loss each way (from sequence
 * numbers: probes the responder saw, echoes the prober saw). This is what the report prints as
 * "link check".
 */
import { ToolChild } from '../../tools/lib/child.js';
import type { Distribution } from '../metrics.js';
import type { Topology } from '../netns.js';

export interface LinkCheckOptions {
  /** Probes to send (default 1000). */
  probes?: number;
  /** Gap between probes in ms (default 2: 500 probes/s, about a 16-bot game's packet rate). */
  intervalMs?: number;
  /** Probe size in bytes including the 32-byte header (default 200, a typical snapshot). */
  sizeBytes?: number;
  /**
   * How long to wait for late echoes after the last probe, ms. Default: 1 s plus twice the
   * expected RTT, so no echo still in flight is counted as lost.
   */
  drainMs?: number;
  /** The RTT the conditions should give, for the default drain time. */
  expectedRttMs?: number;
  /** SCHED_FIFO priority for the probe processes (0/absent = normal scheduling). */
  realtime?: number;
  logFile?: string;
  /** Also write every echo as CSV here (seq, send time, RTT, up, down in ms), e.g. for a CDF plot. */
  samplesFile?: string;
}

/** One direction of the link. */
export interface DirectionCheck {
  /** Probes (or echoes) sent in this direction. */
  sent: number;
  /** Distinct ones that arrived. */
  received: number;
  lossPct: number;
  /** One-way delay of those that arrived, ms. */
  oneWayMs: Distribution;
}

export interface LinkCheckResult {
  probes: number;
  intervalMs: number;
  sizeBytes: number;
  /** Round-trip time of the probes that came back, ms. */
  rttMs: Distribution & { min: number | null };
  /** client -> server (bots to server). */
  up: DirectionCheck;
  /** server -> client. */
  down: DirectionCheck;
  /** Copies seen twice (either end); a healthy link has none. */
  duplicates: number;
  /** Echoes that arrived after an echo of a later probe. */
  reordered: number;
  /** Wall time of the check, ms. */
  elapsedMs: number;
}

/** Responder port inside the server's namespace (its own namespace: nothing else listens). */
const PROBE_PORT = 40_011;
const START_TIMEOUT_MS = 15_000;
/** Beyond sending and draining, the time a child may take to start and report. */
const RESULT_SLACK_MS = 30_000;

function pct(lost: number, of: number): number {
  return of > 0 ? (100 * lost) / of : 0;
}

/** Run the link check across `topo` under whatever conditions are in force. */
export async function runLinkCheck(topo: Topology, opts: LinkCheckOptions = {}): Promise<LinkCheckResult> {
  const probes = opts.probes ?? 1000;
  const intervalMs = opts.intervalMs ?? 2;
  const sizeBytes = opts.sizeBytes ?? 200;
  const drainMs = opts.drainMs ?? 1000 + 2 * (opts.expectedRttMs ?? 0);
  const host = topo.server.address;
  const started = Date.now();
  const children: ToolChild[] = [];
  const start = (ns: string, label: string, args: string[]) => {
    const c = ToolChild.script('experiments/delay/probe-entry.ts', args, { label, ns, logFile: opts.logFile, realtime: opts.realtime });
    children.push(c);
    return c;
  };
  try {
    const responder = start(topo.server.ns, 'link-check responder', ['--mode', 'responder', '--host', host, '--port', String(PROBE_PORT)]);
    await responder.waitFor('ready', START_TIMEOUT_MS);
    const prober = start(topo.client.ns, 'link-check prober', [
      '--mode', 'prober', '--host', host, '--port', String(PROBE_PORT), '--count', String(probes),
      '--interval-ms', String(intervalMs), '--size', String(sizeBytes), '--drain-ms', String(drainMs),
      ...(opts.samplesFile ? ['--samples-file', opts.samplesFile] : []),
    ]);
    const res = await prober.waitFor('result', probes * intervalMs + drainMs + RESULT_SLACK_MS);
    responder.send({ cmd: 'stats' });
    const srv = await responder.waitFor('stats', START_TIMEOUT_MS);

    const sent = Number(res.sent);
    const reached = Number(srv.received);
    const echoed = Number(res.echoed);
    return {
      probes: sent,
      intervalMs: Number(res.intervalMs),
      sizeBytes: Number(res.size),
      rttMs: { ...(res.rttMs as Distribution), min: res.rttMinMs as number | null },
      up: { sent, received: reached, lossPct: pct(sent - reached, sent), oneWayMs: res.upMs as Distribution },
      // The responder echoes each distinct probe once (duplicates aside), so it sent `reached` echoes.
      down: { sent: reached, received: echoed, lossPct: pct(reached - echoed, reached), oneWayMs: res.downMs as Distribution },
      duplicates: Number(srv.duplicates) + Number(res.duplicates),
      reordered: Number(res.reordered),
      elapsedMs: Date.now() - started,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop(1000)));
  }
}
