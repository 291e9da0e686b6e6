import { describe, expect, it } from 'vitest';
import { CHAT_OUTBOX_LIMIT, CHAT_RESEND_LIMIT, ChatOutbox } from '../../../client/net/chat-outbox.js';

describe('ChatOutbox', () => {
  it('keeps one line on the wire, numbered 1, 2, ... in writing order', () => {
    const o = new ChatOutbox();
    o.push('a');
    o.push('b');
    expect(o.take(0)).toEqual({ seq: 1, text: 'a', resend: false });
    expect(o.take(0)).toBeNull(); // 'a' is unsettled: 'b' waits
    expect(o.accepted(1)).toEqual({ accepted: [{ seq: 1, text: 'a' }], unsent: [] });
    expect(o.take(0)).toEqual({ seq: 2, text: 'b', resend: false });
    o.accepted(2);
    expect(o.size).toBe(0);
    expect(o.take(0)).toBeNull();
  });

  it('refuses a line when CHAT_OUTBOX_LIMIT lines wait, and keeps every line already written', () => {
    const o = new ChatOutbox();
    for (let i = 0; i < CHAT_OUTBOX_LIMIT; i++) expect(o.push(`l${i}`)).toEqual({ ok: true });
    expect(o.push('one too many')).toEqual({ ok: false, reason: 'full' });
    expect(o.size).toBe(CHAT_OUTBOX_LIMIT);
    expect(o.take(0)?.text).toBe('l0');
    o.accepted(1);
    expect(o.push('fits again')).toEqual({ ok: true });
  });

  it('resends a line refused for now after retryAfterMs with the same seq, up to CHAT_RESEND_LIMIT times', () => {
    const o = new ChatOutbox();
    o.push('x');
    o.push('y');
    const first = o.take(0)!;
    let t = 0;
    for (let i = 0; i < CHAT_RESEND_LIMIT; i++) {
      const r = o.rejected(first.seq, i % 2 ? 'unavailable' : 'rate_limited', 1000, t);
      expect(r.resendAt).toBe(t + 1000);
      expect(o.take(t + 999)).toBeNull(); // not before the server's retry time, and 'y' does not overtake
      t += 1000;
      expect(o.take(t)).toEqual({ seq: first.seq, text: 'x', resend: true });
    }
    expect(o.rejected(first.seq, 'rate_limited', 1000, t)).toEqual({ accepted: [], unsent: [{ seq: 1, text: 'x', reason: 'rate_limited' }] });
    expect(o.take(t)).toEqual({ seq: 2, text: 'y', resend: false });
  });

  it('gives up a line refused for good and ignores a refusal for a seq not on the wire', () => {
    const o = new ChatOutbox();
    o.push('too long');
    o.take(0);
    expect(o.rejected(5, 'too_long', 0, 0)).toEqual({ accepted: [], unsent: [] });
    expect(o.rejected(1, 'too_long', 0, 0).unsent).toEqual([{ seq: 1, text: 'too long', reason: 'too_long' }]);
    expect(o.size).toBe(0);
  });

  it('a resumed welcome settles the lines up to lastChatSeq and sends the rest again with their seqs', () => {
    const o = new ChatOutbox();
    o.push('a');
    o.push('b');
    o.take(0); // seq 1 on the wire when the connection dropped
    const accepted = o.welcome(true, 1); // the server had it
    expect(accepted.accepted).toEqual([{ seq: 1, text: 'a' }]);
    expect(o.take(0)).toEqual({ seq: 2, text: 'b', resend: false });
    // 'b' dies with the next connection before the server saw it: resent with seq 2.
    expect(o.welcome(true, 1)).toEqual({ accepted: [], unsent: [] });
    expect(o.take(0)).toEqual({ seq: 2, text: 'b', resend: true });
  });

  it('a welcome that did not resume gives up the line on the wire and renumbers the others from 1', () => {
    const o = new ChatOutbox();
    o.push('a');
    o.take(0);
    o.accepted(1);
    o.push('b');
    o.push('c');
    o.take(0); // 'b', seq 2, on the wire
    expect(o.welcome(false, undefined).unsent).toEqual([{ seq: 2, text: 'b', reason: 'session_lost' }]);
    expect(o.take(0)).toEqual({ seq: 1, text: 'c', resend: false });
  });

  it('a send that did not reach the transport goes again on the next turn, not as a resend', () => {
    const o = new ChatOutbox();
    o.push('a');
    const line = o.take(0)!;
    o.unsent(line.seq);
    expect(o.take(0)).toEqual({ seq: 1, text: 'a', resend: false });
  });

  it('clear reports every waiting line as closed', () => {
    const o = new ChatOutbox();
    o.push('a');
    o.push('b');
    o.take(0);
    expect(o.clear().unsent).toEqual([{ seq: 1, text: 'a', reason: 'closed' }, { seq: 0, text: 'b', reason: 'closed' }]);
    expect(o.size).toBe(0);
  });
});
