/**
 * ChatRoomFeed alone, over a scripted ChatSource (a stand-in for the Redis source: reads that
 * answer when the test says, epochs, gaps, duplicates) and a ManualScheduler.
 */
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../../server/clock.js';
import type { ChatMessage } from '../../../../server/chat/types.js';
import type { ChatRead, ChatSource } from '../../../../server/feeds/types.js';
import {
  CHAT_FEED_LINGER_MS, CHAT_FEED_RING_LINES, ChatRoomFeed, type ChatListener, type HistoryLost,
} from '../../../../server/http/feeds/chat-feed.js';

const line = (id: number): ChatMessage => ({ id, entityId: 1, name: 'n', text: `t${id}`, t: id });

/** History in memory (trimmed to `keep`), reads held until `release()` when `hold` is set. */
class ScriptedSource implements ChatSource {
  epoch = 'e1';
  lines: ChatMessage[] = [];
  open = true;
  hold = false;
  keep = 1000;
  private held: Array<() => void> = [];
  private deliver: ((m: ChatMessage, e: string) => void) | null = null;
  reads = 0;

  post(id: number, epoch = this.epoch): void {
    const m = line(id);
    if (epoch === this.epoch) {
      this.lines.push(m);
      if (this.lines.length > this.keep) this.lines.shift();
    }
    this.deliver?.(m, epoch);
  }

  async read(_room: string, after: number, limit: number): Promise<ChatRead | null> {
    this.reads++;
    // The answer is what the history held when asked; it arrives when released.
    const top = this.lines.at(-1)?.id ?? 0;
    const all = this.lines.filter((m) => m.id > after);
    const messages = all.slice(-limit);
    const complete = after >= top || (messages.length === top - after && messages[0]?.id === after + 1);
    const answer = this.open ? { epoch: this.epoch, top, messages, complete } : null;
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    return answer;
  }

  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  subscribe(_room: string, deliver: (m: ChatMessage, e: string) => void): () => void {
    this.deliver = deliver;
    return () => { this.deliver = null; };
  }
}

function reader(last: number) {
  const got: number[] = [];
  const lost: HistoryLost[] = [];
  let closed = false;
  const l: ChatListener = { last, line: (x) => got.push(x.message.id), lost: (i) => lost.push(i), closed: () => { closed = true; } };
  return { l, got, lost, get closed() { return closed; } };
}

function feedOf(src: ScriptedSource, sched = new ManualScheduler()) {
  const stats = { delivered: 0, duplicates: 0, reads: 0 };
  let closedCalls = 0;
  const feed = new ChatRoomFeed('r', src, sched, stats, () => { closedCalls++; });
  return { feed, stats, sched, get closedCalls() { return closedCalls; } };
}

describe('ChatRoomFeed', () => {
  it('merges live lines that came before the first read answered, once each', async () => {
    const src = new ScriptedSource();
    for (let i = 1; i <= 3; i++) src.post(i);
    src.hold = true;
    const { feed, stats } = feedOf(src);
    // The first read answers with 1..3; 4 and 5 come live before it does.
    src.post(4);
    src.post(5);
    src.release();
    expect(await feed.ready).toBe(true);
    const up = await feed.catchUp({ kind: 'after', id: 0 });
    expect(up).toMatchObject({ kind: 'ok', last: 5, lost: null });
    if (up.kind === 'ok') expect(up.lines.map((x) => x.message.id)).toEqual([1, 2, 3, 4, 5]);
    expect(stats.duplicates).toBe(0);
    src.post(5); // the source sends 5 again
    expect(stats.duplicates).toBe(1);
  });

  it('serves catch-ups inside the ring without reading; older ones read and merge what came meanwhile', async () => {
    const src = new ScriptedSource();
    for (let i = 1; i <= CHAT_FEED_RING_LINES + 50; i++) src.post(i);
    const { feed, stats } = feedOf(src);
    await feed.ready;
    const reads = stats.reads;
    const inRing = await feed.catchUp({ kind: 'after', id: 100 });
    expect(stats.reads).toBe(reads);
    if (inRing.kind === 'ok') expect(inRing.lines[0].message.id).toBe(101);
    // The live feed skips 251 (the source stored it): the ring restarts at 252.
    src.lines.push(line(251));
    src.post(252);
    src.hold = true;
    const pending = feed.catchUp({ kind: 'after', id: 240 });
    await Promise.resolve();
    src.post(253); // arrives while the read is out
    src.release();
    const old = await pending;
    expect(stats.reads).toBe(reads + 1);
    expect(old.kind).toBe('ok');
    if (old.kind === 'ok') {
      expect(old.lost).toBeNull();
      // 241..252 from the read, 253 from the ring.
      expect(old.lines.map((x) => x.message.id)).toEqual(Array.from({ length: 13 }, (_, i) => 241 + i));
      expect(old.last).toBe(253);
    }
  });

  it('a reader further back than the source keeps gets history-lost first; a future id is refused', async () => {
    const src = new ScriptedSource();
    src.keep = 20;
    for (let i = 1; i <= 300; i++) src.post(i);
    const { feed } = feedOf(src);
    await feed.ready;
    const up = await feed.catchUp({ kind: 'after', id: 5 });
    // The ring (fed by the initial read) starts at 281: older reads the source, which kept 281..300.
    expect(up).toMatchObject({ kind: 'ok', lost: { reason: 'trimmed', after: 5, resumeFrom: 281 } });
    expect(await feed.catchUp({ kind: 'after', id: 301 })).toEqual({ kind: 'future', top: 300 });
  });

  it('follows live lines; a new epoch or a gap is announced to every reader, never skipped silently', async () => {
    const src = new ScriptedSource();
    src.post(1);
    const { feed } = feedOf(src);
    await feed.ready;
    const a = reader(1);
    feed.follow(a.l);
    src.post(2);
    src.post(2); // duplicate
    src.post(5); // gap
    src.epoch = 'e2';
    src.post(6, 'e2'); // another history, continuing the ids: nothing lost
    src.epoch = 'e3';
    src.post(1, 'e3'); // history restarted
    src.post(2, 'e3');
    expect(a.got).toEqual([2, 5, 6, 1, 2]);
    expect(a.lost).toEqual([
      { reason: 'gap', after: 2, resumeFrom: 5 },
      { reason: 'reset', after: 6, resumeFrom: 1 },
    ]);
  });

  it('closes for an unknown room, tells readers when closed, lingers without readers then closes', async () => {
    const src = new ScriptedSource();
    src.open = false;
    const gone = feedOf(src);
    expect(await gone.feed.ready).toBe(false);
    expect(gone.feed.closed).toBe(true);
    expect(await gone.feed.catchUp({ kind: 'recent' })).toEqual({ kind: 'unknown' });

    const src2 = new ScriptedSource();
    const f = feedOf(src2);
    await f.feed.ready;
    const a = reader(0);
    f.feed.follow(a.l);
    f.feed.unfollow(a.l);
    f.sched.advance(CHAT_FEED_LINGER_MS - 1);
    expect(f.feed.closed).toBe(false);
    f.feed.follow(a.l); // a reader came back in time: the linger is off
    f.sched.advance(CHAT_FEED_LINGER_MS);
    expect(f.feed.closed).toBe(false);
    f.feed.close();
    expect(a.closed).toBe(true);
    expect(f.closedCalls).toBe(1);
  });
});
