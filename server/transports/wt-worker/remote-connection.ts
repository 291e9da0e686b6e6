/**
 * `RemoteConnection`: the game's `Connection` for a WebTransport session hosted by a worker
 * thread (worker-entry.ts). Sends become records of the current hand-off batch (handoff.ts)
 * that the pool posts once per event-loop turn; what the worker reports (messages, the close,
 * the datagram budget, drops) arrives through `deliver*`. The game cannot tell it from an
 * in-thread `WebTransportConnection`, except that a send's outcome in quiche is known only
 * later: `sendUnreliable` returns true once the message is in the batch, and a drop in the
 * worker shows in `stats().unreliableDropped`.
 */
import { ErrorCode } from '../../../shared/errors.js';
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../../../shared/limits.js';
import type { CloseInfo, ConnectionStats, ProtocolError, SendUnreliableOptions } from '../connection.js';
import { ConnectionBase } from '../connection-base.js';
import { Flag, Op, closePayload, type OpCode } from './handoff.js';
import { nextWebTransportConnectionId } from '../webtransport.js';

/** Which hand-off limit a record meets (handoff.ts MAX_HANDOFF_INFLIGHT_BYTES). */
export type RecordKind = 'unreliable' | 'reliable' | 'control';

/** What a RemoteConnection needs from its pool. */
export interface RemoteConnectionHost {
  /**
   * Appends a record to the worker's current batch; returns its offset, or -1 when refused
   * because the worker lags (`kind` decides which hand-off limit applies; a control record,
   * tiny and needed to free the worker's side, always goes).
   */
  put(worker: number, op: OpCode, flags: number, conn: number, payload: Uint8Array, kind: RecordKind): number;
  /** Offset `offset` of the worker's current batch (generation `gen`) was replaced: skip it. */
  skip(worker: number, gen: number, offset: number): boolean;
  /** The worker's current batch generation (offsets of older ones are gone). */
  generation(worker: number): number;
  /** The connection is closed on this side: forget its number. */
  forget(worker: number, conn: number): void;
}

export class RemoteConnection extends ConnectionBase {
  readonly id: string;
  readonly transport = 'webtransport' as const;
  private budget: number;
  /** The last REPLACE record still in the current batch: generation, offset, message type. */
  private replaceGen = -1;
  private replaceAt = -1;
  private replaceType = -1;
  /** Drop totals reported by the worker (quiche's queue full, purged as stale). */
  private workerDropped = 0;
  private workerReplaced = 0;

  constructor(
    private readonly host: RemoteConnectionHost,
    /** The worker's index in the pool. */
    readonly worker: number,
    /** The worker's number for this session. */
    readonly conn: number,
    readonly remoteAddress: string,
    budget: number,
  ) {
    super();
    this.id = nextWebTransportConnectionId();
    this.budget = budget;
  }

  get maxUnreliableSize(): number {
    return this.budget > 0 ? Math.min(this.budget, MAX_UNRELIABLE_MESSAGE_BYTES) : MAX_UNRELIABLE_MESSAGE_BYTES;
  }

  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean {
    if (this.isClosed || bytes.length === 0) {
      this.counters.unreliableDropped++;
      return false;
    }
    const replace = options?.replaceKey ? Flag.REPLACE : 0;
    const at = this.host.put(this.worker, Op.UNRELIABLE, replace, this.conn, bytes, 'unreliable');
    if (at < 0) {
      this.counters.unreliableDropped++;
      return false;
    }
    if (replace) {
      // Latest wins inside the batch as in quiche's queue: an older message of this type that
      // has not left this thread yet never will.
      const gen = this.host.generation(this.worker);
      if (this.replaceGen === gen && this.replaceType === bytes[0] && this.host.skip(this.worker, gen, this.replaceAt)) {
        this.counters.unreliableReplaced++;
      }
      this.replaceGen = gen;
      this.replaceAt = at;
      this.replaceType = bytes[0];
    }
    this.countSent('unreliable', bytes.length);
    return true;
  }

  sendReliable(bytes: Uint8Array): boolean {
    if (this.isClosed) return false;
    if (this.host.put(this.worker, Op.RELIABLE, 0, this.conn, bytes, 'reliable') < 0) {
      // The worker stopped reading altogether: the session cannot stay consistent.
      this.close(ErrorCode.INTERNAL_ERROR, 'server overloaded: the transport worker lags');
      return false;
    }
    this.countSent('reliable', bytes.length);
    return true;
  }

  drain(): void {
    if (!this.isClosed) this.host.put(this.worker, Op.DRAIN, 0, this.conn, EMPTY, 'control');
  }

  override stats(): ConnectionStats {
    return {
      ...this.counters,
      unreliableDropped: this.counters.unreliableDropped + this.workerDropped,
      unreliableReplaced: this.counters.unreliableReplaced + this.workerReplaced,
    };
  }

  /** @internal A message from the peer (a view into the worker's batch, which is never reused). */
  deliverUnreliable(bytes: Uint8Array): void {
    if (bytes.length > 0) this.receiveUnreliable(bytes);
  }

  /** @internal */
  deliverReliable(bytes: Uint8Array): void {
    this.receiveReliable(bytes);
  }

  /**
   * @internal The worker's WebTransportConnection found a protocol error (it delivers nothing
   * more and stays open): reported once, as in-thread; without a handler, closes with its code.
   */
  deliverProtocolError(error: ProtocolError): void {
    this.protocolError(error);
  }

  /** @internal The worker's datagram budget changed. */
  setBudget(budget: number): void {
    this.budget = budget;
  }

  /** @internal Drop totals of this session in the worker. */
  setWorkerDrops(dropped: number, replaced: number): void {
    this.workerDropped = dropped;
    this.workerReplaced = replaced;
  }

  /** @internal The session ended in the worker (or the worker is gone). */
  override finish(info: CloseInfo): void {
    super.finish(info);
  }

  protected override closeTransport(code: number, reason: string): void {
    this.host.put(this.worker, Op.CLOSE, 0, this.conn, closePayload(code, reason), 'control');
  }

  protected override finished(): void {
    this.host.forget(this.worker, this.conn);
  }
}

const EMPTY = new Uint8Array(0);
