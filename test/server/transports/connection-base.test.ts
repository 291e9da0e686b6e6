/**
 * The bookkeeping every transport shares (server/transports/connection-base.ts), on a minimal
 * transport that records what the base asks of it. The real transports run the same rules over
 * real sockets in websocket.test.ts, webtransport.test.ts and wt-worker/worker-pool.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, errorInfo } from '../../../shared/errors.js';
import type { CloseInfo, ProtocolError } from '../../../server/transports/connection.js';
import { ConnectionBase, zeroConnectionStats } from '../../../server/transports/connection-base.js';

/** A transport whose wire is a list of what happened, in order. */
class LogTransport extends ConnectionBase {
  readonly id = 'log-1';
  readonly transport = 'websocket' as const;
  readonly remoteAddress = '192.0.2.7';
  readonly maxUnreliableSize = 1200;
  readonly log: string[] = [];

  sendUnreliable(): boolean {
    return !this.isClosed;
  }

  sendReliable(): boolean {
    return !this.isClosed;
  }

  drain(): void {}

  /** The peer's side: a message, a protocol error, the end. */
  peerUnreliable(bytes: Uint8Array): void {
    this.receiveUnreliable(bytes);
  }

  peerReliable(bytes: Uint8Array): void {
    this.receiveReliable(bytes);
  }

  peerBrokeProtocol(error: ProtocolError): void {
    this.protocolError(error);
  }

  peerClosed(info: CloseInfo): void {
    this.finish(info);
  }

  protected override closeTransport(code: number, reason: string): void {
    this.log.push(`transport close ${code} ${reason}`);
  }

  protected override finished(): void {
    this.log.push('finished');
  }

  protected override failing(): void {
    this.log.push('failing');
  }
}

const bad: ProtocolError = { code: ErrorCode.BAD_MESSAGE, reason: 'decode', kind: 'text_frame' };

describe('ConnectionBase', () => {
  it('close runs the transport close once, then finish, then onClose with byPeer false', () => {
    const c = new LogTransport();
    c.onClose = (i) => c.log.push(`onClose ${i.code} ${i.reason} ${i.byPeer}`);
    c.close(ErrorCode.NORMAL, 'bye');
    c.close(ErrorCode.INTERNAL_ERROR, 'again');
    expect(c.closed).toBe(true);
    expect(c.log).toEqual([`transport close ${ErrorCode.NORMAL} bye`, 'finished', `onClose ${ErrorCode.NORMAL} bye false`]);
  });

  it('a peer close finishes once, and a later close of ours does nothing', () => {
    const c = new LogTransport();
    const closes: CloseInfo[] = [];
    c.onClose = (i) => closes.push(i);
    c.peerClosed({ code: 1006, reason: 'gone', byPeer: true });
    c.peerClosed({ code: 1000, reason: 'twice', byPeer: true });
    c.close(ErrorCode.NORMAL, 'late');
    expect(closes).toEqual([{ code: 1006, reason: 'gone', byPeer: true }]);
    expect(c.log).toEqual(['finished']);
  });

  it('counts and delivers what the peer sends while open; nothing after the close', () => {
    const c = new LogTransport();
    const got: string[] = [];
    c.onUnreliable = (b) => got.push(`u${b.length}`);
    c.onReliable = (b) => got.push(`r${b.length}`);
    c.peerUnreliable(new Uint8Array(3));
    c.peerReliable(new Uint8Array(5));
    c.close(ErrorCode.NORMAL, '');
    c.peerUnreliable(new Uint8Array(7));
    c.peerReliable(new Uint8Array(11));
    expect(got).toEqual(['u3', 'r5']);
    expect(c.stats()).toEqual({ ...zeroConnectionStats(), bytesReceivedUnreliable: 3, bytesReceivedReliable: 5 });
  });

  it('a protocol error goes to the handler once, before any close, and stops delivery; the handler may still close', () => {
    const c = new LogTransport();
    const got: string[] = [];
    c.onReliable = () => got.push('message');
    c.onProtocolError = (e) => {
      c.log.push(`error ${e.kind}`);
      expect(c.closed).toBe(false); // the session can still send its `error` message
      c.close(e.code, 'bad message');
    };
    c.onClose = (i) => c.log.push(`onClose ${i.code}`);
    c.peerBrokeProtocol(bad);
    c.peerBrokeProtocol(bad);
    c.peerReliable(new Uint8Array(2));
    expect(got).toEqual([]);
    expect(c.log).toEqual(['failing', 'error text_frame', `transport close ${ErrorCode.BAD_MESSAGE} bad message`, 'finished', `onClose ${ErrorCode.BAD_MESSAGE}`]);
    expect(c.stats().bytesReceivedReliable).toBe(0);
  });

  it('without a protocol-error handler the connection closes with the error code and its catalogue description', () => {
    const c = new LogTransport();
    const closes: CloseInfo[] = [];
    c.onClose = (i) => closes.push(i);
    c.peerBrokeProtocol(bad);
    expect(closes).toEqual([{ code: ErrorCode.BAD_MESSAGE, reason: errorInfo(ErrorCode.BAD_MESSAGE)!.description, byPeer: false }]);
  });

  it('no protocol error is reported after the close, and no handler is called after the end', () => {
    const c = new LogTransport();
    const seen: string[] = [];
    c.onProtocolError = () => seen.push('error');
    c.onClose = () => seen.push('close');
    c.close(ErrorCode.NORMAL, '');
    c.peerBrokeProtocol(bad);
    expect(seen).toEqual(['close']);
    expect(c.onClose).toBeNull();
    expect(c.onProtocolError).toBeNull();
  });

  it('stats are a copy: changing them changes nothing inside', () => {
    const c = new LogTransport();
    const s = c.stats();
    s.bytesReceivedReliable = 99;
    expect(c.stats()).toEqual(zeroConnectionStats());
  });
});
