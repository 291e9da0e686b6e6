/**
 * The client's view of the shared message table (shared/messages.ts, shared/codec.ts): typed
 * encoders for what the client sends, one decoder for what the server sends, and which close
 * codes end the client for good. The only place client/net touches the codec API.
 */
import { decodeMessage, encodeMessage } from '../../shared/codec.js';
import { ErrorCode } from '../../shared/errors.js';
import { MAX_CHAT_TEXT_LENGTH } from '../../shared/limits.js';
import {
  channelOfMessage,
  PROTOCOL_VERSION,
  SNAPSHOT_MESSAGE_ID,
  type ChatAcceptedBody,
  type ChatBody,
  type ChatRejectedBody,
  type DrainBody,
  type ErrorBody,
  type InputVector,
  type PingBody,
  type PlayerInfo,
  type PlayerLeftBody,
  type WelcomeBody,
} from '../../shared/messages.js';
import type { ChannelName } from './channel.js';

export { PROTOCOL_VERSION };

/** Close codes the client acts on (shared/errors.ts). */
export const CLOSE_CODES = ErrorCode;

/** Longest chat line the server accepts (UTF-16 units). */
export const MAX_CHAT_LENGTH = MAX_CHAT_TEXT_LENGTH;

/** A message from the server, discriminated on `type`. */
export type ServerMessage =
  | { type: 'welcome'; body: WelcomeBody }
  | { type: 'playerJoined'; body: PlayerInfo }
  | { type: 'playerLeft'; body: PlayerLeftBody }
  | { type: 'chat'; body: ChatBody }
  | { type: 'chatRejected'; body: ChatRejectedBody }
  | { type: 'chatAccepted'; body: ChatAcceptedBody }
  | { type: 'error'; body: ErrorBody }
  | { type: 'drain'; body: DrainBody }
  | { type: 'ping'; body: PingBody }
  | { type: 'pong'; body: PingBody }
  /** The snapshot codec's bytes (after the message id). */
  | { type: 'snapshot'; bytes: Uint8Array };

export type ServerDecodeResult = { ok: true; message: ServerMessage } | { ok: false; reason: string; detail: string };

/**
 * Which channel a message belongs to, read from its id (shared/messages.ts): on WebSocket both
 * channels share one socket, so the receiver sorts by id (the table; unknown ids by range, 1-31
 * reliable, 32-63 unreliable), and GameClient sends each message on its table channel.
 */
export { channelOfMessage };

/**
 * Decodes and validates one server message; never throws.
 *
 * One exception to the channel rule: a `snapshot` is accepted on the reliable channel too. The
 * server may be configured to send snapshots on the reliable stream (the packet-loss
 * experiments' head-of-line-blocking arm, server option `snapshotChannel: 'reliable'`); a
 * snapshot arriving in order and late is harmless, whereas a reliable-only message (chat,
 * welcome) on the unreliable channel would break its guarantees and stays refused.
 */
export function decodeServerMessage(bytes: Uint8Array, channel: ChannelName): ServerDecodeResult {
  const effective: ChannelName = channel === 'reliable' && bytes[0] === SNAPSHOT_MESSAGE_ID ? 'unreliable' : channel;
  const r = decodeMessage(bytes, { channel: effective, direction: 's2c' });
  if (!r.ok) return { ok: false, reason: r.reason, detail: r.detail };
  switch (r.name) {
    case 'snapshot':
      return { ok: true, message: { type: 'snapshot', bytes: r.body } };
    case 'welcome':
    case 'playerJoined':
    case 'playerLeft':
    case 'chat':
    case 'chatRejected':
    case 'chatAccepted':
    case 'error':
    case 'drain':
    case 'ping':
    case 'pong':
      return { ok: true, message: { type: r.name, body: r.body } as ServerMessage };
    default:
      return { ok: false, reason: 'wrong_channel', detail: `${r.name} is not a server message` };
  }
}

export function encodeHello(o: { ticket: string; resumeToken?: string; lastChatId?: number; chatEpoch?: string }): Uint8Array {
  return encodeMessage('hello', {
    v: PROTOCOL_VERSION,
    ticket: o.ticket,
    ...(o.resumeToken !== undefined ? { resumeToken: o.resumeToken } : {}),
    ...(o.lastChatId !== undefined ? { lastChatId: o.lastChatId } : {}),
    ...(o.chatEpoch !== undefined ? { chatEpoch: o.chatEpoch } : {}),
  });
}

/** `inputs` newest first (shared/messages.ts `InputBody`); `ack` 0 = no snapshot yet. */
export function encodeInput(o: { seq: number; ack: number; inputs: InputVector[] }): Uint8Array {
  return encodeMessage('input', o);
}

/** A spectator's ack and camera (instead of `input`; docs/protocol.md "Spectators"). */
export function encodeSpectate(o: { ack: number; x: number; y: number }): Uint8Array {
  return encodeMessage('spectate', o);
}

export function encodePing(body: PingBody): Uint8Array {
  return encodeMessage('ping', body);
}

export function encodePong(body: PingBody): Uint8Array {
  return encodeMessage('pong', body);
}

/** `seq`: the line's per-session client sequence number (shared/chat-outbox.ts); absent for none. */
export function encodeChatSend(text: string, seq?: number): Uint8Array {
  return encodeMessage('chatSend', seq === undefined ? { text } : { text, seq });
}

export function encodeLeave(): Uint8Array {
  return encodeMessage('leave', {});
}

/**
 * Close codes after which reconnecting cannot help: the server will refuse again for the same
 * reason. TICKET_EXPIRED is terminal only with a fixed ticket; a ticket provider mints a new one.
 */
export function isTerminalCloseCode(code: number, ticketIsFixed: boolean): boolean {
  switch (code) {
    case ErrorCode.NORMAL:
    case ErrorCode.PROTOCOL_VERSION:
    case ErrorCode.TICKET_INVALID:
    case ErrorCode.SESSION_REPLACED:
    case ErrorCode.UNKNOWN_ROOM:
      return true;
    case ErrorCode.TICKET_EXPIRED:
      return ticketIsFixed;
    default:
      return false;
  }
}
