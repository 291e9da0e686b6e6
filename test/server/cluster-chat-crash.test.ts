/**
 * A chat line accepted after the room's last checkpoint, then the node dies (docs/cluster.md
 * "Checkpoints", docs/protocol.md "Chat lines the client wrote"): real game servers in cluster
 * mode on a real redis-server, raw WebSocket clients playing the chat outbox's part.
 *
 * The dying node had stored the line in the room's chat stream (so everyone saw it) but its
 * `chatAccepted` never reached the writer. The new owner restores the room from the checkpoint
 * written before the line, and raises the seat's seq from the stream (the line carries its
 * author's session and seq there), so the resumed welcome names the line's seq and a resend of it
 * is a counted repeat, shown once.
 */
import { expect, it } from 'vitest';
import type { MessageBodies } from '../../shared/messages.js';
import type { RoomCheckpoint } from '../../server/cluster/checkpoint.js';
import type { GameServer } from '../../server/index.js';
import { setDrainingSeenBy, useGameCluster } from './cluster/fixture.js';
import { describeWithRedis, until } from './cluster/redis-server.js';
import { RawClient } from './ws-test-client.js';

const ROOM = 'crash-chat';
/** Tries at resuming on the new owner while the dead node's lease runs out (3 s in FAST_CLUSTER). */
const RESUME_TRIES = 40;

describeWithRedis('chat seqs after a node crash', () => {
  const fx = useGameCluster();
  const raws: RawClient[] = [];

  const connect = async (node: GameServer): Promise<RawClient> => {
    const c = await RawClient.connect(node.cluster!.address.webSocketUrl);
    raws.push(c);
    return c;
  };

  /** Resumes `ticket`'s session on `node`, retrying while the room is not yet free to take there. */
  const resumeOn = async (node: GameServer, ticket: string, extra: { resumeToken: string; lastChatId: number }): Promise<{ client: RawClient; welcome: MessageBodies['welcome'] }> => {
    for (let attempt = 0; attempt < RESUME_TRIES; attempt++) {
      const c = await connect(node);
      c.hello(ticket, extra);
      await c.until(() => c.of('welcome').length > 0 || c.closeCode !== null, 5_000, 'welcome or close');
      const welcome = c.of('welcome')[0];
      if (welcome) return { client: c, welcome };
      const retry = c.of('error')[0]?.retryAfterMs ?? 100;
      await new Promise((r) => setTimeout(r, Math.min(Math.max(retry, 50), 500)));
    }
    throw new Error(`no resume on ${node.cluster!.nodeId} after ${RESUME_TRIES} tries`);
  };

  const chatRepeats = async (node: GameServer): Promise<number> =>
    (await node.metrics.dropped.get()).values.find((v) => v.labels.reason === 'chat_repeat')?.value ?? 0;

  it('a line accepted after the last checkpoint is known on the new owner: the welcome names its seq, its resend is a counted repeat, shown once', async () => {
    try {
      const [victim, survivor] = await fx.startCluster(2);
      await setDrainingSeenBy(survivor, true, victim); // the room starts on the victim
      const annTicket = victim.mintTicket({ playerId: 'ann', name: 'ann', room: ROOM });
      const benTicket = victim.mintTicket({ playerId: 'ben', name: 'ben', room: ROOM });
      const ann = await connect(victim);
      const annWelcome = await ann.welcome(annTicket);
      const ben = await connect(victim);
      const benWelcome = await ben.welcome(benTicket);
      await survivor.cluster!.node.setDraining(false);

      ann.send('chatSend', { text: 'one', seq: 1 });
      await ann.until(() => ann.of('chatAccepted').length === 1, 5_000, 'one accepted');
      // The room's last periodic checkpoint before the crash: both seats, Ann's seq 1.
      let stale: RoomCheckpoint | null = null;
      await until('a checkpoint with seq 1', async () => {
        stale = await survivor.cluster!.node.checkpoints.load(ROOM);
        return stale?.seats.find((s) => s.playerId === 'ann')?.lastChatSeq === 1 && stale.seats.length === 2;
      });

      // 'two' is accepted and stored (Ben hears it, which the cluster's fan-out does only once
      // Redis has it); its chatAccepted is what dies with the node.
      ann.send('chatSend', { text: 'two', seq: 2 });
      await ben.until(() => ben.of('chat').some((m) => m.text === 'two'), 5_000, 'Ben hears two');
      const heardBefore = ben.of('chat').map((m) => m.text);
      expect(heardBefore).toEqual(['one', 'two']);

      // The crash: rooms abandoned, no final checkpoint, the lease left to expire.
      await victim.cluster!.stop({ graceful: false });
      ann.terminate();
      ben.terminate();
      // Its periodic checkpointer may have caught 'two' before it died; this test is about the
      // other case, so the checkpoint in Redis is the one from before the line (the victim's own,
      // still valid under its fencing token: nobody has taken the room yet).
      expect(await survivor.cluster!.node.checkpoints.save(stale!)).toBe('saved');

      const lastId = Math.max(...ben.of('chat').map((m) => m.id));
      const benBack = await resumeOn(survivor, benTicket, { resumeToken: benWelcome.resumeToken, lastChatId: lastId });
      expect(benBack.welcome).toMatchObject({ resumed: true, nodeId: survivor.cluster!.nodeId });
      const annBack = await resumeOn(survivor, annTicket, { resumeToken: annWelcome.resumeToken, lastChatId: lastId });
      expect(annBack.welcome).toMatchObject({ resumed: true, nodeId: survivor.cluster!.nodeId });

      // A client that still had 'two' on the wire sends it again with its seq: a repeat.
      const repeatsBefore = await chatRepeats(survivor);
      annBack.client.send('chatSend', { text: 'two', seq: 2 });
      annBack.client.send('chatSend', { text: 'three', seq: 3 });
      await benBack.client.until(() => benBack.client.of('chat').some((m) => m.text === 'three'), 5_000, 'Ben hears three');
      expect(benBack.client.of('chat').map((m) => m.text)).toEqual(['three']);
      expect(annBack.client.of('chatAccepted')).toEqual([{ seq: 2 }, { seq: 3 }]);
      expect(await chatRepeats(survivor)).toBe(repeatsBefore + 1);
      // The welcome already said so: a client's outbox settles the line from it, not resending.
      expect(annBack.welcome.lastChatSeq).toBe(2);
      expect(survivor.cluster!.rooms.stats.chatSeqsRaised).toBe(1);
      // The stream, the room's durable record, holds 'two' once.
      const history = await survivor.cluster!.node.chat.stream.read(ROOM, 0);
      expect(history.messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    } finally {
      for (const c of raws.splice(0)) c.terminate();
    }
  }, 60_000);
});
