/**
 * What the soak's processes report to its harness (JSON lines, tools/lib/child.ts protocol), and
 * the parsing of the server's /metrics text. Pure: no I/O.
 */

/** One refusal total of `tickwire_refusals_total{layer,reason}`. */
export interface RefusalTotal {
  layer: string;
  reason: string;
  count: number;
}

/** The server's state at one moment (server-entry.ts answers `sample` with it). */
export interface ServerSample {
  /** Epoch ms. */
  t: number;
  rssBytes: number;
  /** After a forced full GC when `gcForced`: what the heap retains. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  /**
   * Of heapUsedBytes, compiled code (V8's code spaces): it grows as new paths run for the first
   * time (an attack's), which is warm-up, not a leak, so the verdict leaves it out.
   */
  heapCodeBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  gcForced: boolean;
  /** The session directory (server.sessions) and the pending-hello count. */
  sessions: { total: number; active: number; suspended: number; pending: number };
  /** Rooms open (RoomManager.list()); empty ones linger EMPTY_ROOM_LINGER_MS for a quick rejoin. */
  rooms: number;
  /** Players in all rooms (active or suspended sessions keep theirs). */
  roomPlayers: number;
  /** /metrics gauges by `name{labels}`: tickwire_sessions{transport=...}, tickwire_sessions_suspended, tickwire_rooms. */
  gauges: Record<string, number>;
  /** The WebTransport server: QUIC connections, sessions, handshakes, peer bytes held, link simulator. */
  webTransport: {
    connections: number;
    sessions: number;
    handshaking: number;
    peerBytesHeld: number;
    peerBytesPeak: number;
    linkSimLost: number;
    linkSimSent: number;
  } | null;
  /** TCP connections open on the HTTP/WebSocket port. */
  httpSockets: number;
  refusals: RefusalTotal[];
}

/** One probe: a fresh honest player joining (dev ticket, transport, hello, welcome) and leaving. */
export interface ProbeResult {
  /** Epoch ms when the probe started. */
  t: number;
  transport: 'webtransport' | 'websocket';
  ok: boolean;
  /** Start to welcome, ms (null when it failed). */
  latencyMs: number | null;
  error?: string;
}

/** The honest bots' running figures (bots-entry.ts answers `progress` with it). */
export interface BotsProgress {
  t: number;
  bots: number;
  connected: number;
  /** Snapshots each bot received since the previous progress: the fewest, and the median. */
  snapshotsMin: number;
  snapshotsMedian: number;
  reconnects: number;
  resumeFailures: number;
}

/** The honest bots' final account (bots-entry.ts prints it after every bot left). */
export interface BotsReport {
  bots: number;
  byTransport: Record<string, number>;
  /** First joins: dev ticket to welcome, ms. */
  initialJoinMs: number[];
  initialJoinFailures: number;
  /** Connections the soak dropped on purpose, and how each came back. */
  drops: number;
  /** Welcomes after a drop (or any other loss of connection) with `resumed: true`. */
  resumes: number;
  /** Welcomes after the first that were not a resume (the player got a new entity), with why. */
  resumeFailures: number;
  resumeFailureSamples: string[];
  /** Drop to welcome, ms. */
  reconnectMs: number[];
  chat: {
    /** Lines the bots wrote that their client's outbox took (GameClient `chatSent`). */
    sent: number;
    /**
     * Lines the outbox gave up with a final answer (`chatUnsent`: refused for good, past the
     * resend limit, or still waiting when the bots closed); not shown.
     */
    rejected: number;
    /**
     * Lines given up as `session_lost` (on the wire when a session was not resumed): each may or
     * may not have been shown.
     */
    sessionLost: number;
    /** `chatRejected` answers that were refusals for now (resent by the outbox after the wait). */
    refusedForNow: number;
    /** Times a line went out again (GameClient `chatResent`: after a refusal for now, or on a resumed session). */
    resent: number;
    /** Lines `sendChat` refused because the outbox was full (never taken, not in `sent`). */
    outboxFull: number;
    /** This bot's own lines that came back to it. */
    ownEchoed: number;
    /** Distinct chat ids received, over all bots. */
    received: number;
    /** Ids a bot never got although it got a later one in the same session (gaps). */
    missing: number;
    /** Lines a bot got again (GameClient's chatRepeated). */
    repeated: number;
  };
  connectedAtEnd: number;
  snapshots: number;
  errors: number;
  errorSamples: string[];
}

/** What one attack process did (attack-entry.ts prints one per attack kind). */
export interface AttackReport {
  kind: string;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  /** Sources (local addresses) used. */
  sources: string[];
  /** What was sent and what came back, by name (attack-specific, e.g. `initials_sent`). */
  counts: Record<string, number>;
  /** A few notes on unexpected outcomes. */
  notes: string[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/;

/**
 * Values of the metrics named in `names` from Prometheus text, keyed `name{labels}` (labels as
 * written); histogram and summary parts (_bucket, _sum, _count) of other metrics are ignored.
 */
export function parseGauges(text: string, names: readonly string[]): Record<string, number> {
  const wanted = new Set(names);
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line.trim());
    if (!m || !wanted.has(m[1])) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out[`${m[1]}${m[2] ?? ''}`] = v;
  }
  return out;
}

/** Refusal totals of `after` minus those of `before`, by `layer reason`, leaving out zeros. */
export function refusalDelta(before: readonly RefusalTotal[], after: readonly RefusalTotal[]): RefusalTotal[] {
  const base = new Map(before.map((r) => [`${r.layer} ${r.reason}`, r.count]));
  return after
    .map((r) => ({ layer: r.layer, reason: r.reason, count: r.count - (base.get(`${r.layer} ${r.reason}`) ?? 0) }))
    .filter((r) => r.count > 0)
    .sort((a, b) => (a.layer === b.layer ? a.reason.localeCompare(b.reason) : a.layer.localeCompare(b.layer)));
}
