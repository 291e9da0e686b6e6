import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { native } from '@matrixai/quic';
import { isQuicheDone, parseQuicheError } from '../../../../server/h3/wire/quiche-errors.js';

describe('parseQuicheError', () => {
  it.each([
    [new Error('StreamReset(263)'), { kind: 'StreamReset', code: 263, codeSafe: true }],
    ['StreamStopped(0)', { kind: 'StreamStopped', code: 0, codeSafe: true }],
    [new Error('StreamStopped(91231163731169)'), { kind: 'StreamStopped', code: 91231163731169, codeSafe: true }],
    [new Error('StreamReset(4611686018427387903)'), { kind: 'StreamReset', code: 4611686018427387904, codeSafe: false }],
    [new Error('InvalidStreamState(4)'), { kind: 'InvalidStreamState', streamId: 4 }],
    [new Error('StreamLimit'), { kind: 'StreamLimit' }],
    [new Error('InvalidState'), { kind: 'InvalidState' }],
    ['Done', { kind: 'Done' }],
    [{ message: 'FlowControl' }, { kind: 'FlowControl' }],
    [new Error('BufferTooShort'), { kind: 'BufferTooShort' }],
    [new Error('something else'), { kind: 'Unknown', message: 'something else' }],
    [42, { kind: 'Unknown', message: '42' }],
    [null, { kind: 'Unknown', message: 'null' }],
    [undefined, { kind: 'Unknown', message: 'undefined' }],
  ] as const)('parses %s', (input, expected) => {
    expect(parseQuicheError(input)).toEqual(expected);
  });

  it('parses what the real binding throws', () => {
    // An unconnected client connection: stream and datagram calls fail in known ways.
    const config = new native.quiche.Config();
    config.setApplicationProtos(['h3']);
    config.setInitialMaxStreamsBidi(10);
    const conn = native.quiche.Connection.connect('localhost', new Uint8Array(20).fill(1), { host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }, config);
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('expected the binding to throw');
    };
    expect(parseQuicheError(thrown(() => conn.streamSend(3, new Uint8Array(1), false)))).toEqual({ kind: 'InvalidStreamState', streamId: 3 });
    expect(parseQuicheError(thrown(() => conn.streamSend(0, new Uint8Array(1), false)))).toEqual({ kind: 'StreamLimit' });
    expect(parseQuicheError(thrown(() => conn.dgramSend(new Uint8Array(10))))).toEqual({ kind: 'InvalidState' });
  });

  it('recognises Done', () => {
    expect(isQuicheDone(new Error('Done'))).toBe(true);
    expect(isQuicheDone(new Error('StreamLimit'))).toBe(false);
  });

  it('never throws (property)', () => {
    fc.assert(fc.property(fc.anything(), (x) => {
      expect(typeof parseQuicheError(x).kind).toBe('string');
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.string(), (s) => {
      expect(typeof parseQuicheError(new Error(s)).kind).toBe('string');
    }), { numRuns: 2000 });
  });
});
