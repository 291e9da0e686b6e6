import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../shared/codec.js';
import { MAX_RELIABLE_MESSAGE_BYTES, MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { MESSAGES, SNAPSHOT_MESSAGE_ID, messageSpec, messageSpecById, type MessageName } from '../../shared/messages.js';
import { SAMPLES, worstCase } from './samples.js';

describe('message table', () => {
  it('holds exactly the messages of docs/architecture.md with unique ids and names', () => {
    expect(MESSAGES.map((m) => m.name).sort()).toEqual([
      'chat', 'chatRejected', 'chatSend', 'drain', 'error', 'hello', 'input', 'leave', 'ping',
      'playerJoined', 'playerLeft', 'pong', 'snapshot', 'spectate', 'welcome',
    ]);
    expect(new Set(MESSAGES.map((m) => m.id)).size).toBe(MESSAGES.length);
    for (const m of MESSAGES) {
      expect(m.id).toBeGreaterThan(0);
      expect(m.id).toBeLessThan(256);
      expect(messageSpec(m.name)).toBe(m);
      expect(messageSpecById(m.id)).toBe(m);
    }
    expect(messageSpec('snapshot')?.id).toBe(SNAPSHOT_MESSAGE_ID);
  });

  it('puts snapshots, inputs (and a spectator\'s spectate) and pings on the unreliable channel and the rest on the reliable one', () => {
    const unreliable = MESSAGES.filter((m) => m.channel === 'unreliable').map((m) => m.name).sort();
    expect(unreliable).toEqual(['input', 'ping', 'pong', 'snapshot', 'spectate']);
    expect(messageSpec('input')?.direction).toBe('c2s');
    expect(messageSpec('spectate')?.direction).toBe('c2s');
    expect(messageSpec('snapshot')?.direction).toBe('s2c');
    expect(messageSpec('ping')?.direction).toBe('both');
  });

  it('ids 1-31 are reliable and 32-63 unreliable, as docs/protocol.md promises for WebSocket', () => {
    for (const m of MESSAGES) {
      if (m.channel === 'reliable') expect(m.id, m.name).toBeLessThanOrEqual(31);
      else expect([m.id >= 32, m.id <= 63], m.name).toEqual([true, true]);
    }
  });

  it('keeps every maxBytes within its channel limit', () => {
    for (const m of MESSAGES) {
      const limit = m.channel === 'reliable' ? MAX_RELIABLE_MESSAGE_BYTES : MAX_UNRELIABLE_MESSAGE_BYTES;
      expect(m.maxBytes).toBeLessThanOrEqual(limit);
    }
  });

  it('the worst-case body of every message encodes within its maxBytes', () => {
    for (const m of MESSAGES) {
      if (!m.schema) continue;
      const body = worstCase(m.schema);
      expect(m.validate(body).ok, m.name).toBe(true);
      const bytes = encodeMessage(m.name, body as never);
      expect(bytes.length, m.name).toBeLessThanOrEqual(m.maxBytes);
    }
  });

  it('every sample is valid for its schema', () => {
    for (const name of Object.keys(SAMPLES) as MessageName[]) {
      expect(messageSpec(name)!.validate(SAMPLES[name]).ok, name).toBe(true);
    }
  });
});
