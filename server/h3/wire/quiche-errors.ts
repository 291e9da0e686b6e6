/**
 * The one place that interprets errors thrown by the quiche binding of @matrixai/quic. The binding
 * returns null for quiche's `Done` from send/recv calls but throws the other quiche errors as
 * Error objects (or strings) whose message is the Rust Debug form: `StreamReset(263)`,
 * `StreamStopped(0)`, `StreamLimit`, `InvalidStreamState(4)`, `InvalidState`, `Done`,
 * `BufferTooShort`, `FlowControl`, `FinalSize`, `CongestionControl`, `IdLimit`, ...
 */

/** Unit quiche errors (no payload), in quiche's Debug spelling. */
export type QuicheSimpleErrorKind =
  | 'Done'
  | 'BufferTooShort'
  | 'UnknownVersion'
  | 'InvalidFrame'
  | 'InvalidPacket'
  | 'InvalidState'
  | 'InvalidTransportParam'
  | 'CryptoFail'
  | 'TlsFail'
  | 'FlowControl'
  | 'StreamLimit'
  | 'FinalSize'
  | 'CongestionControl'
  | 'IdLimit'
  | 'OutOfIdentifiers'
  | 'KeyUpdate'
  | 'CryptoBufferExceeded';

const SIMPLE: ReadonlySet<string> = new Set<QuicheSimpleErrorKind>([
  'Done', 'BufferTooShort', 'UnknownVersion', 'InvalidFrame', 'InvalidPacket', 'InvalidState',
  'InvalidTransportParam', 'CryptoFail', 'TlsFail', 'FlowControl', 'StreamLimit', 'FinalSize',
  'CongestionControl', 'IdLimit', 'OutOfIdentifiers', 'KeyUpdate', 'CryptoBufferExceeded',
]);

export type QuicheError =
  | { kind: QuicheSimpleErrorKind }
  /** The peer reset the stream (RESET_STREAM) with this application error code. */
  | { kind: 'StreamReset'; code: number; codeSafe: boolean }
  /** The peer asked us to stop sending (STOP_SENDING) with this application error code. */
  | { kind: 'StreamStopped'; code: number; codeSafe: boolean }
  /** The stream is not in a state that allows the operation (e.g. already finished/collected). */
  | { kind: 'InvalidStreamState'; streamId: number }
  /** Anything else, with the original message for logs. */
  | { kind: 'Unknown'; message: string };

const WITH_ARG = /^\s*(StreamReset|StreamStopped|InvalidStreamState)\((\d{1,20})\)\s*$/;

/** Turns whatever the binding threw into a typed result. Never throws. */
export function parseQuicheError(e: unknown): QuicheError {
  let message: string;
  if (typeof e === 'string') message = e;
  else if (e instanceof Error) message = e.message;
  else if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    message = (e as { message: string }).message;
  } else return { kind: 'Unknown', message: safeString(e) };
  const trimmed = message.trim();
  if (SIMPLE.has(trimmed)) return { kind: trimmed as QuicheSimpleErrorKind };
  const m = WITH_ARG.exec(trimmed);
  if (m) {
    const big = BigInt(m[2]);
    const n = Number(big);
    const safe = big <= BigInt(Number.MAX_SAFE_INTEGER);
    if (m[1] === 'InvalidStreamState') return { kind: 'InvalidStreamState', streamId: n };
    return { kind: m[1] as 'StreamReset' | 'StreamStopped', code: n, codeSafe: safe };
  }
  return { kind: 'Unknown', message };
}

/** String(e) can throw (objects without a usable toString); the parser must not. */
function safeString(e: unknown): string {
  try {
    return String(e);
  } catch {
    return Object.prototype.toString.call(e);
  }
}

/** True when `e` is quiche's `Done` ("nothing to do"), which is not a failure. */
export function isQuicheDone(e: unknown): boolean {
  return parseQuicheError(e).kind === 'Done';
}
