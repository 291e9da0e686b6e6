/**
 * A light standard-scene player for the benchmark's load process (a bot kind of fleet.ts): the
 * same transports, channels and
 * messages as GameClient (client/net's openChannel and protocol encoders), but snapshots are
 * not reconstructed. It acks the newest snapshot id it received, read from the fixed header
 * (docs/protocol.md, snapshot layout: bytes 5-8 are the big-endian snapshot id), so the server
 * does exactly the work it does for a full client: same baselines, same deltas, same bytes.
 * This keeps 500 clients in one process from eating the core the server needs (the Colyseus
 * peer's load clients skip decoding for the same reason). No reconnects: a lost client is
 * counted, not replaced. The observer always uses the full GameClient.
 */
import { openChannel } from '../../client/net/connector.js';
import type { ClientChannel } from '../../client/net/channel.js';
import {
  channelOfMessage, decodeServerMessage, encodeHello, encodeInput, encodeLeave, encodePong,
} from '../../client/net/protocol.js';
import { defaultTimers, type FetchLike, type WebSocketConstructor, type WebTransportConstructor } from '../../client/net/transport-types.js';
import { ErrorCode } from '../../shared/errors.js';
import { MAX_INPUTS_PER_MESSAGE } from '../../shared/limits.js';
import { SNAPSHOT_MESSAGE_ID } from '../../shared/messages.js';
import { mintDevTicket } from '../../client/net/dev-ticket.js';

/** Inputs per second per client in the standard scene (DESIGN.md), GameClient's default too. */
export const STANDARD_INPUT_HZ = 20;

/** Time for transport set-up plus hello -> welcome on a loaded box. */
export const LIGHT_JOIN_TIMEOUT_MS = 20_000;

/** Offset of the u32 snapshot id in a snapshot message: id byte, u32 lastInputSeq, then the id. */
const SNAPSHOT_ID_OFFSET = 5;

/** Snapshot id of a `snapshot` message, or 0 when the bytes are not one (too short, wrong id). */
export function peekSnapshotId(message: Uint8Array): number {
  if (message.length < SNAPSHOT_ID_OFFSET + 4 || message[0] !== SNAPSHOT_MESSAGE_ID) return 0;
  const o = SNAPSHOT_ID_OFFSET;
  return ((message[o] << 24) >>> 0) + (message[o + 1] << 16) + (message[o + 2] << 8) + message[o + 3];
}

/**
 * Newest-first history of the last MAX_INPUTS_PER_MESSAGE directions, each component uniform in
 * [-1, 1]; `next()` adds a fresh one and returns the list to send.
 */
export class RandomInputs {
  private readonly recent: [number, number][] = [];
  constructor(private readonly random: () => number = Math.random) {}

  next(): [number, number][] {
    this.recent.unshift([this.random() * 2 - 1, this.random() * 2 - 1]);
    if (this.recent.length > MAX_INPUTS_PER_MESSAGE) this.recent.length = MAX_INPUTS_PER_MESSAGE;
    return this.recent.map((d) => [d[0], d[1]]);
  }
}

export interface LightClientOptions {
  baseUrl: string;
  transport: 'webtransport' | 'websocket';
  name: string;
  WebSocket?: WebSocketConstructor;
  WebTransport?: WebTransportConstructor;
  fetch: FetchLike;
  /** Default STANDARD_INPUT_HZ. */
  inputHz?: number;
  /** Draws the directions and the send phase (default Math.random). */
  random?: () => number;
  onError?: (message: string) => void;
}

export class LightClient {
  bytesDown = 0;
  bytesUp = 0;
  snapshots = 0;
  private channel: ClientChannel | null = null;
  private ack = 0;
  private seq = 0;
  private readonly inputs: RandomInputs;
  private timer: ReturnType<typeof setInterval> | null = null;
  private phase: ReturnType<typeof setTimeout> | null = null;
  private welcomed = false;
  private closedByUs = false;

  constructor(private readonly o: LightClientOptions) {
    this.inputs = new RandomInputs(o.random);
  }

  get connected(): boolean {
    return this.welcomed && !!this.channel && !this.channel.closed;
  }

  /** Transport, hello, welcome; then inputs at `inputHz` with a random phase. */
  async connect(): Promise<void> {
    const ticket = await mintDevTicket(this.o.fetch, this.o.baseUrl, this.o.name);
    const { channel } = await openChannel({
      baseUrl: this.o.baseUrl,
      preference: this.o.transport,
      WebTransport: this.o.WebTransport,
      WebSocket: this.o.WebSocket,
      fetch: this.o.fetch,
      timers: defaultTimers,
      channelOf: channelOfMessage,
      webTransportTimeoutMs: LIGHT_JOIN_TIMEOUT_MS,
    });
    this.channel = channel;
    const welcome = new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`no welcome within ${LIGHT_JOIN_TIMEOUT_MS} ms`)), LIGHT_JOIN_TIMEOUT_MS);
      channel.onClose = (info) => {
        clearTimeout(timeout);
        this.stopInputs();
        if (!this.closedByUs) this.o.onError?.(`closed ${info.code} ${info.reason}`);
        reject(new Error(`closed ${info.code} ${info.reason}`));
      };
      channel.onMessage = (bytes, ch) => {
        this.bytesDown += bytes.byteLength;
        if (ch === 'unreliable' && bytes[0] === SNAPSHOT_MESSAGE_ID) {
          const id = peekSnapshotId(bytes);
          if (id > this.ack) this.ack = id;
          this.snapshots++;
          return;
        }
        const m = decodeServerMessage(bytes, ch);
        if (!m.ok) return;
        if (m.message.type === 'welcome' && !this.welcomed) {
          this.welcomed = true;
          clearTimeout(timeout);
          this.startInputs();
          resolve();
        } else if (m.message.type === 'ping') {
          this.send(encodePong(m.message.body));
        } else if (m.message.type === 'error') {
          this.o.onError?.(`error ${m.message.body.code} ${m.message.body.message}`);
        }
      };
    });
    this.send(encodeHello({ ticket }));
    await welcome;
  }

  close(): void {
    this.closedByUs = true;
    this.stopInputs();
    const ch = this.channel;
    if (ch && !ch.closed) {
      this.send(encodeLeave());
      ch.close(ErrorCode.NORMAL, 'bench finished');
    }
  }

  /** Sends on the message's table channel (shared/messages.ts). */
  private send(bytes: Uint8Array): void {
    const ch = this.channel;
    if (!ch || ch.closed) return;
    const ok = channelOfMessage(bytes) === 'reliable' ? ch.sendReliable(bytes) : ch.sendUnreliable(bytes);
    if (ok) this.bytesUp += bytes.byteLength;
  }

  private startInputs(): void {
    const interval = 1000 / (this.o.inputHz ?? STANDARD_INPUT_HZ);
    const tick = () => this.send(encodeInput({ seq: ++this.seq, ack: this.ack, inputs: this.inputs.next() }));
    // A random phase per client, so P clients do not all send in the same millisecond.
    this.phase = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, interval);
    }, (this.o.random ?? Math.random)() * interval);
  }

  private stopInputs(): void {
    if (this.phase) clearTimeout(this.phase);
    if (this.timer) clearInterval(this.timer);
    this.phase = null;
    this.timer = null;
  }
}
