import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../../shared/codec.js';
import { ErrorCode } from '../../../shared/errors.js';
import {
  channelOfMessage,
  decodeServerMessage,
  encodeChatSend,
  encodeHello,
  encodeInput,
  encodeLeave,
  encodePing,
  encodePong,
  isTerminalCloseCode,
  PROTOCOL_VERSION,
} from '../../../client/net/protocol.js';

const asServer = (bytes: Uint8Array, channel: 'reliable' | 'unreliable') => decodeMessage(bytes, { channel, direction: 'c2s' });

describe('client/net protocol adapter', () => {
  it('encodes what the server decodes: hello with and without resume', () => {
    const fresh = asServer(encodeHello({ ticket: 't1' }), 'reliable');
    expect(fresh).toMatchObject({ ok: true, name: 'hello', body: { v: PROTOCOL_VERSION, ticket: 't1' } });
    expect(fresh.ok && 'resumeToken' in fresh.body).toBe(false);
    const resumed = asServer(encodeHello({ ticket: 't1', resumeToken: 'r', lastChatId: 7 }), 'reliable');
    expect(resumed).toMatchObject({ ok: true, body: { resumeToken: 'r', lastChatId: 7 } });
  });

  it('encodes inputs newest first with the ack, on the unreliable channel', () => {
    const bytes = encodeInput({ seq: 9, ack: 3, inputs: [[1, 0], [0, -1]] });
    expect(channelOfMessage(bytes)).toBe('unreliable');
    expect(asServer(bytes, 'unreliable')).toMatchObject({ ok: true, name: 'input', body: { seq: 9, ack: 3, inputs: [[1, 0], [0, -1]] } });
  });

  it('encodes ping, pong, chatSend and leave', () => {
    expect(asServer(encodePing({ id: 1, t: 12.5 }), 'unreliable')).toMatchObject({ ok: true, name: 'ping', body: { id: 1, t: 12.5 } });
    expect(asServer(encodePong({ id: 2, t: 3 }), 'unreliable')).toMatchObject({ ok: true, name: 'pong' });
    expect(asServer(encodeChatSend('hi'), 'reliable')).toMatchObject({ ok: true, name: 'chatSend', body: { text: 'hi' } });
    expect(asServer(encodeLeave(), 'reliable')).toMatchObject({ ok: true, name: 'leave' });
  });

  it('decodes server messages and sorts them by channel', () => {
    const chat = encodeMessage('chat', { id: 4, entityId: 2, name: 'a', text: 'yo', t: 1 });
    expect(channelOfMessage(chat)).toBe('reliable');
    expect(decodeServerMessage(chat, 'reliable')).toEqual({
      ok: true,
      message: { type: 'chat', body: { id: 4, entityId: 2, name: 'a', text: 'yo', t: 1 } },
    });
    const snap = new Uint8Array([35, 1, 2, 3]);
    expect(channelOfMessage(snap)).toBe('unreliable');
    const d = decodeServerMessage(snap, 'unreliable');
    expect(d.ok && d.message.type === 'snapshot' && [...d.message.bytes]).toEqual([1, 2, 3]);
  });

  it('accepts a snapshot on the reliable channel (server option snapshotChannel: reliable), but no reliable message on the unreliable one', () => {
    const d = decodeServerMessage(new Uint8Array([35, 9, 9]), 'reliable');
    expect(d.ok && d.message.type).toBe('snapshot');
    const chat = encodeMessage('chat', { id: 1, entityId: 0, name: 'a', text: 'b', t: 0 });
    expect(decodeServerMessage(chat, 'unreliable')).toMatchObject({ ok: false, reason: 'wrong_channel' });
  });

  it('drops client-to-server messages, wrong channels and garbage without throwing', () => {
    expect(decodeServerMessage(encodeChatSend('x'), 'reliable')).toMatchObject({ ok: false, reason: 'wrong_channel' });
    expect(decodeServerMessage(encodeMessage('chat', { id: 1, entityId: 0, name: 'a', text: 'b', t: 0 }), 'unreliable')).toMatchObject({ ok: false });
    expect(decodeServerMessage(new Uint8Array([]), 'reliable')).toMatchObject({ ok: false });
    expect(channelOfMessage(new Uint8Array([200]))).toBe('reliable');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, rel) => {
        const r = decodeServerMessage(bytes, rel ? 'reliable' : 'unreliable');
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('treats only codes that would repeat as terminal', () => {
    expect(isTerminalCloseCode(ErrorCode.TICKET_INVALID, false)).toBe(true);
    expect(isTerminalCloseCode(ErrorCode.PROTOCOL_VERSION, false)).toBe(true);
    expect(isTerminalCloseCode(ErrorCode.SESSION_REPLACED, false)).toBe(true);
    expect(isTerminalCloseCode(ErrorCode.TICKET_EXPIRED, true)).toBe(true);
    expect(isTerminalCloseCode(ErrorCode.TICKET_EXPIRED, false)).toBe(false);
    expect(isTerminalCloseCode(ErrorCode.SERVER_DRAINING, true)).toBe(false);
    expect(isTerminalCloseCode(ErrorCode.IDLE_TIMEOUT, true)).toBe(false);
    expect(isTerminalCloseCode(1006, true)).toBe(false);
  });
});
