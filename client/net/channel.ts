import type { Channel } from '../../shared/messages.js';
import type { TransportKind } from './transport-types.js';

/** The two channels of a session (shared/messages.ts `Channel`). */
export type ChannelName = Channel;

export interface ChannelCloseInfo {
  /** Game close code (shared/errors, 4000-4099) or a transport code (WebSocket 1xxx, 0 = abrupt). */
  code: number;
  reason: string;
  /** True when the peer closed or vanished; false when we closed. */
  byPeer: boolean;
}

/**
 * The client's view of one open transport session: the same two channels the server's
 * `Connection` has (server/transports/connection.ts), seen from the other end.
 */
export interface ClientChannel {
  readonly kind: TransportKind;
  /** Largest unreliable message sure to go out whole. */
  readonly maxUnreliableSize: number;
  readonly closed: boolean;
  /** Returns false when the message was not sent (closed, or the send buffer limit was hit). */
  sendReliable(message: Uint8Array): boolean;
  /** Returns false when dropped; unreliable messages are best effort by definition. */
  sendUnreliable(message: Uint8Array): boolean;
  /** One whole message; `channel` says which channel it arrived on. */
  onMessage: ((message: Uint8Array, channel: ChannelName) => void) | null;
  /** Called once, when the channel closes for any reason. */
  onClose: ((info: ChannelCloseInfo) => void) | null;
  /** Transport-level drain (WebTransport DRAIN capsule); the game-level `drain` message follows. */
  onTransportDrain: (() => void) | null;
  /** Idempotent. */
  close(code: number, reason: string): void;
  /**
   * Closes after what was already sent on the reliable channel had its chance to arrive (the
   * `leave` before a deliberate close): at once where the transport orders data and close
   * (WebSocket over TCP), else when the peer closes or after a short bounded wait.
   */
  closeGracefully(code: number, reason: string): void;
}

/** Close code used when a transport ended without telling us why (WebSocket 1006 semantics). */
export const CLOSE_ABNORMAL = 1006;

/**
 * Views incoming binary data as a Uint8Array without copying: each WebSocket frame and each
 * datagram chunk is a fresh buffer owned by us. Anything else (text frames, Blobs) is null.
 */
export function toUint8Array(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
