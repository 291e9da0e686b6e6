/**
 * The client's chat outbox (docs/protocol.md, "Chat lines the client wrote"): every line the
 * caller wrote stays here until the server has settled it, so a line written into a connection
 * that died, or while reconnecting, is sent (once) on the resumed session instead of being lost.
 *
 * Rules, in the order a line meets them:
 * - A line waits in order; at most CHAT_OUTBOX_LIMIT wait. A line written to a full outbox is
 *   refused (`push` says `full`): nothing already written is ever pushed out silently.
 * - Stop and wait: only the oldest line is ever on the wire. It gets the session's next client
 *   sequence number when it first goes out and keeps it for every resend, so the server, which
 *   remembers the highest seq it accepted, drops a repeat. One line in flight also keeps the
 *   order and means a line the server refused for now (`rate_limited`, `unavailable`) is never
 *   overtaken: it waits `retryAfterMs` and goes again with its seq, at most CHAT_RESEND_LIMIT
 *   times. An honest client therefore never sends while the server asked it to wait, so a
 *   resend after a reconnect never earns flood strikes (server/chat/chat-room.ts).
 * - The line leaves when the server settles it: `chatAccepted` (or a resumed welcome's
 *   `lastChatSeq`) at or above its seq, or `chatRejected` for its seq with a final reason
 *   (`empty`, `too_long`, or a transient one past the resend limit): the caller is told.
 * - A welcome that did not resume the session (the resume window passed, the server lost it)
 *   starts the numbering afresh; the line on the wire then cannot be known to have arrived or not
 *   and is given up (`session_lost`) rather than risk showing it twice; lines never sent go out
 *   on the new session.
 *
 * I/O-free and clock-free: GameClient sends, times the resend waits and passes the time in.
 */
import type { ChatRejectReason } from '../../shared/messages.js';
import { U32_MAX } from '../../shared/limits.js';

/**
 * Lines waiting to be settled. A person types a few lines a second at most and the server takes
 * one a second after a burst of five (server/chat/chat-room.ts), so 32 covers a long outage's
 * worth of typing; past it the caller hears `sendChat` refuse and can tell the user.
 */
export const CHAT_OUTBOX_LIMIT = 32;
/**
 * Times a line refused for now (`rate_limited`, `unavailable`) is sent again after the server's
 * `retryAfterMs` before it is given up: a cluster handoff refuses chat for about two seconds, a
 * rate limit for about one.
 */
export const CHAT_RESEND_LIMIT = 8;

/** Why a line left the outbox without being accepted. */
export type ChatUnsentReason = ChatRejectReason | 'session_lost' | 'closed';

/** A line as the outbox hands it out. */
export interface OutboxLine {
  /** Session client sequence number; 0 until the line first goes out. */
  seq: number;
  text: string;
}

/** What settling did: the lines accepted and the ones given up (in order). */
export interface OutboxSettled {
  accepted: OutboxLine[];
  unsent: (OutboxLine & { reason: ChatUnsentReason })[];
  /** Set when the head waits for the server's retry time: send it again at this time. */
  resendAt?: number;
}

interface Entry extends OutboxLine {
  /** queued: may go now; inFlight: on the wire, unsettled; waiting: refused for now, until `notBefore`. */
  state: 'queued' | 'inFlight' | 'waiting';
  notBefore: number;
  /** Transient refusals so far (CHAT_RESEND_LIMIT). */
  resends: number;
  /** Times handed out to send. */
  trips: number;
}

export class ChatOutbox {
  private readonly lines: Entry[] = [];
  /** Seq the next line to go out gets; per session (reset by a fresh welcome). */
  private nextSeq = 1;

  constructor(readonly limit = CHAT_OUTBOX_LIMIT, readonly resendLimit = CHAT_RESEND_LIMIT) {}

  /** Lines waiting (the one on the wire included). */
  get size(): number {
    return this.lines.length;
  }

  /** When the head, refused for now, may go again (null: it is not waiting). */
  get waitingUntil(): number | null {
    const head = this.lines[0];
    return head && head.state === 'waiting' ? head.notBefore : null;
  }

  /** Adds a line at the end; `full` when CHAT_OUTBOX_LIMIT lines already wait. */
  push(text: string): { ok: true } | { ok: false; reason: 'full' } {
    if (this.lines.length >= this.limit) return { ok: false, reason: 'full' };
    this.lines.push({ seq: 0, text, state: 'queued', notBefore: 0, resends: 0, trips: 0 });
    return { ok: true };
  }

  /**
   * The line to send now, if any: the head, when nothing is on the wire and it is not waiting
   * past `nowMs`. It is marked in flight (numbered on its first trip); the caller sends it.
   * `resend`: it went out before (after a refusal for now, or on a resumed session).
   */
  take(nowMs: number): (OutboxLine & { resend: boolean }) | null {
    const head = this.lines[0];
    if (!head || head.state === 'inFlight' || (head.state === 'waiting' && nowMs < head.notBefore)) return null;
    if (head.seq === 0) head.seq = this.allocate();
    if (head.state === 'waiting') head.resends++;
    head.state = 'inFlight';
    const resend = head.trips > 0;
    head.trips++;
    return { seq: head.seq, text: head.text, resend };
  }

  /** The head was not handed to the transport after all (the send failed): it goes again later. */
  unsent(seq: number): void {
    const head = this.lines[0];
    if (head && head.seq === seq && head.state === 'inFlight') {
      head.state = 'queued';
      head.trips--;
    }
  }

  /** `chatAccepted` (or a resumed welcome): every numbered line at or below `seq` is in. */
  accepted(seq: number): OutboxSettled {
    const accepted: OutboxLine[] = [];
    while (this.lines.length > 0 && this.lines[0].seq !== 0 && this.lines[0].seq <= seq) {
      const e = this.lines.shift()!;
      accepted.push({ seq: e.seq, text: e.text });
    }
    if (this.nextSeq <= seq) this.nextSeq = Math.min(seq + 1, U32_MAX);
    return { accepted, unsent: [] };
  }

  /**
   * `chatRejected` for `seq`: a transient refusal (`rate_limited`, `unavailable`) keeps the line
   * for a resend after `retryAfterMs` (until the resend limit); any other gives it up.
   */
  rejected(seq: number, reason: ChatRejectReason, retryAfterMs: number, nowMs: number): OutboxSettled {
    const head = this.lines[0];
    if (!head || head.seq !== seq || head.state !== 'inFlight') return { accepted: [], unsent: [] };
    const transient = reason === 'rate_limited' || reason === 'unavailable';
    if (transient && head.resends < this.resendLimit) {
      head.state = 'waiting';
      head.notBefore = nowMs + Math.max(0, retryAfterMs);
      return { accepted: [], unsent: [], resendAt: head.notBefore };
    }
    this.lines.shift();
    return { accepted: [], unsent: [{ seq: head.seq, text: head.text, reason }] };
  }

  /**
   * A welcome arrived. Resumed: lines at or below `lastChatSeq` were accepted (their
   * `chatAccepted` was lost with the connection), the rest go again with their seqs. Not resumed:
   * a new session numbers from 1; the line that was on the wire is given up (`session_lost`).
   */
  welcome(resumed: boolean, lastChatSeq: number | undefined): OutboxSettled {
    if (resumed) {
      const settled = this.accepted(lastChatSeq ?? 0);
      const head = this.lines[0];
      if (head && head.state === 'inFlight') head.state = 'queued';
      return settled;
    }
    const unsent: OutboxSettled['unsent'] = [];
    const head = this.lines[0];
    if (head && head.state === 'inFlight') {
      this.lines.shift();
      unsent.push({ seq: head.seq, text: head.text, reason: 'session_lost' });
    }
    this.nextSeq = 1;
    for (const e of this.lines) {
      e.seq = 0;
      e.state = 'queued';
      e.resends = 0;
      e.trips = 0;
    }
    return { accepted: [], unsent };
  }

  /** The client closed for good: every waiting line is given up (`closed`). */
  clear(): OutboxSettled {
    const unsent = this.lines.map((e) => ({ seq: e.seq, text: e.text, reason: 'closed' as const }));
    this.lines.length = 0;
    return { accepted: [], unsent };
  }

  private allocate(): number {
    const seq = this.nextSeq;
    // 2^32 - 1 lines in one session is out of reach; stay in range rather than wrap (a wrapped
    // seq would look like a repeat to the server).
    if (this.nextSeq < U32_MAX) this.nextSeq++;
    return seq;
  }
}
