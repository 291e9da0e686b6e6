/**
 * Data shapes shared by the experiment's processes: what the bots process hands back, and what
 * the harness computes and writes.
 */
import type { ChatReceived, ChatResult, ChatSent, Distribution } from './metrics.js';
import type { DirectionCounters, ImpairMethod } from './impair.js';
import type { LinkCheckResult } from './delay/link-check.js';
import type { MechanismPlan, StageFinals } from './delay/conditions.js';

/**
 * The three ways of carrying snapshots that the experiment compares. Chat and control always use
 * the transport's reliable channel.
 */
export type ArmId = 'wt-datagram' | 'wt-stream' | 'websocket';

export const ALL_ARMS: readonly ArmId[] = ['wt-datagram', 'wt-stream', 'websocket'];

export interface ArmSpec {
  id: ArmId;
  /** Human label for tables and legends. */
  label: string;
  /** Bots transport flag. */
  transport: 'webtransport' | 'websocket';
  /** Server option `snapshotChannel`. */
  snapshotChannel: 'unreliable' | 'reliable';
}

export const ARMS: Record<ArmId, ArmSpec> = {
  'wt-datagram': { id: 'wt-datagram', label: 'WebTransport datagrams', transport: 'webtransport', snapshotChannel: 'unreliable' },
  'wt-stream': { id: 'wt-stream', label: 'WebTransport stream', transport: 'webtransport', snapshotChannel: 'reliable' },
  websocket: { id: 'websocket', label: 'WebSocket (TCP)', transport: 'websocket', snapshotChannel: 'unreliable' },
};

/** One network condition. */
export interface Condition {
  lossPct: number;
  /** Added round-trip time in ms (netem or the NFQUEUE delay stage; 0 = none added). */
  rttMs: number;
}

/** Values per row of the server's ground-truth log: epoch ms of the step, entity id, x, y. */
export const TRUTH_FIELDS = 4;

/** What server-entry writes with --truth: every player's position after every simulation step of the window. */
export interface TruthLog {
  fields: ['t', 'id', 'x', 'y'];
  /** Flat rows of TRUTH_FIELDS values, in time order. */
  values: number[];
  /** Rows not logged because the log was full. */
  dropped: number;
}

/**
 * Values per row of a frame log: epoch ms of the frame, observer (bot index; the browser is
 * BROWSER_OBSERVER), entity id, drawn x, drawn y. Only remote players (not the observer's own).
 */
export const FRAME_FIELDS = 5;
/** Observer index of the real browser page in frame logs. */
export const BROWSER_OBSERVER = -1;

/** One observer's view statistics over the window (from the demo client's WorldView). */
export interface ObserverStats {
  observer: number;
  /** Frames sampled in the window. */
  frames: number;
  /** Frames in which the interpolation buffer ran past its newest snapshot (extrapolated or held). */
  starvedFrames: number;
  /** Interpolation delay (buffering on top of the fastest path), ms: mean over the window's frames, and at its end. */
  interpDelayMeanMs: number;
  interpDelayEndMs: number;
}

/** What an observer process writes after the window: its drawn frames and its view statistics. */
export interface FrameLog {
  fields: ['t', 'observer', 'id', 'x', 'y'];
  values: number[];
  observers: ObserverStats[];
  /** Rows not kept because the log was full. */
  dropped: number;
}

/** Rendered-position error of one arm under one condition (see metrics.ts, renderedError). */
export interface RenderResult {
  /** Distance between where a remote player was drawn and where it was at that instant, world units. */
  errorUnits: Distribution;
  /** Share of sampled frames in which the buffer extrapolated past its newest snapshot (or held). */
  extrapolateShare: number;
  /** Share of (frame, remote player) pairs drawn where the previous frame drew it although it moved. */
  freezeShare: number;
  /** Interpolation delay the observers settled on: median over observers of the value at the window's end, ms. */
  interpDelayEndMs: number;
  /** Mean over observers of their mean delay during the window, ms. */
  interpDelayMeanMs: number;
  /** Frames sampled per observer and second. */
  framesPerSec: number;
  observers: number;
}

/** One received snapshot: [bot index, snapshot id, server time ms, receipt time ms, new (1) or late/duplicate (0)]. */
export type SnapshotSample = [number, number, number, number, 0 | 1];

/** What the bots process writes (as JSON) after one measurement window. */
export interface BotsReport {
  arm: ArmId;
  bots: number;
  /** Transport each bot ended up on (a mismatch with the arm invalidates the arm). */
  transports: string[];
  snapshotHz: number;
  /** Measurement window, epoch ms on the shared clock. */
  windowStart: number;
  windowEnd: number;
  snapshots: SnapshotSample[];
  chatSent: ChatSent[];
  chatReceived: ChatReceived[];
  /** Application payload bytes during the window, summed over bots. */
  appBytesDown: number;
  appBytesUp: number;
  /** Reconnections during the window, summed over bots. */
  reconnects: number;
  /** Chat lines the server rejected (rate limit): must be 0 for a valid run. */
  chatRejected: number;
  /** Errors the clients reported (messages, capped). */
  errors: string[];
  /** The bots process's own load during the window: event-loop delay p99 and CPU seconds per second. */
  loopDelayP99Ms: number;
  cpuPerSec: number;
}

/** The server process's load during the window (from server-entry's `stats` event). */
export interface ServerLoad {
  loopDelayP99Ms: number;
  cpuPerSec: number;
}

/** Interface byte counters on one veth end (includes IP/UDP/TCP headers and retransmissions). */
export interface WireBytes {
  txBytes: number;
  txPackets: number;
}

/** Everything measured for one arm under one condition. */
export interface ArmResult {
  arm: ArmId;
  condition: Condition;
  bots: number;
  durationS: number;
  /** Snapshot rate the server announced in `welcome`. */
  snapshotHz: number;
  transports: string[];
  snapshotAgeMs: Distribution;
  /** Age of the newest snapshot held, sampled every 10 ms (charges lost snapshots too). */
  stalenessMs: Distribution;
  /** Share of snapshot intervals with no new snapshot, 0..1, over all bots. */
  stallShare: number;
  stalledIntervals: number;
  intervals: number;
  /** Snapshots received per second per bot (new ones). */
  snapshotsPerSecPerBot: number;
  chat: ChatResult;
  chatRejected: number;
  /** Wire bytes per second per bot, from the veth counters. */
  wireDownBytesPerSecPerBot: number;
  wireUpBytesPerSecPerBot: number;
  /** Application bytes per second per bot, from the clients' own counters. */
  appDownBytesPerSecPerBot: number;
  appUpBytesPerSecPerBot: number;
  /** Realised drop rate per direction from the kernel's counters. */
  kernel: DirectionCounters[];
  reconnects: number;
  errors: string[];
  /** What the bots would draw (null when not measured). */
  render: RenderResult | null;
  /** The same figures from a real Chromium page in the bots' namespace, when one ran in this arm. */
  browser: (RenderResult & { transport: string | null; snapshots: number; errors: string[] }) | null;
  /** Process load, to tell network effects from a saturated CPU. */
  botsLoopDelayP99Ms: number;
  botsCpuPerSec: number;
  serverLoopDelayP99Ms: number;
  serverCpuPerSec: number;
}

/** Facts about the machine and the run, printed at the top of the report. */
export interface RunInfo {
  startedAt: string;
  finishedAt: string;
  command: string;
  method: ImpairMethod;
  kernel: string;
  cpu: string;
  cpus: number;
  memGiB: number;
  node: string;
  gitCommit: string;
  seed: number;
  bots: number;
  durationS: number;
  warmupS: number;
  conditions: Condition[];
  arms: ArmId[];
  snapshotHz: number;
  /** Nice value of the server and bots processes. */
  nice: number;
  /** SCHED_FIFO priority of those processes, 0 = normal scheduling. */
  realtime: number;
  /** Jitter per direction, ms (0 = none), and its model. */
  jitterMs: number;
  jitterMode: string;
  /** TCP congestion control asked for in both namespaces. */
  tcpCongestion: string;
  /** How delay and loss were realised at the conditions with the most of each, and why. */
  mechanism: MechanismPlan;
  /** Which conditions had a Chromium page beside the bots. */
  browserConditions: Condition[];
  /** The bots' interpolation delay rule where the run overrode the client's own. */
  interp?: InterpRule;
  /** True when loss was on during the warm-up too. */
  lossyWarmup?: boolean;
}

/** An interpolation delay rule (client/game/interpolation.ts config): base intervals and loss residual. */
export interface InterpRule {
  baseIntervals?: number;
  lossResidual?: number;
}

/** UDP echo probe across the impaired link before the arms run: configured vs realised delay and loss. */
export interface LinkCheck {
  condition: Condition;
  probes: number;
  /** Realised loss in percent, client->server and server->client. */
  upLossPct: number;
  downLossPct: number;
  /** Mechanisms in force while probing. */
  mechanism: MechanismPlan;
  /** TCP congestion control read back in the server's / bots' namespace. */
  tcpCongestion: { server: string; client: string };
  /** The full link check (RTT, one-way delay per direction, reordering). */
  result: LinkCheckResult;
}

export interface Summary {
  info: RunInfo;
  linkCheck: LinkCheck[];
  results: ArmResult[];
  /** The delay stages' final counters per condition (empty lists where no stage ran). */
  stages: Array<{ condition: Condition; finals: StageFinals }>;
}
