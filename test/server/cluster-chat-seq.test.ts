/**
 * The chat outbox through a drain handoff (docs/cluster.md "Drain", docs/protocol.md "Chat lines
 * the client wrote"): real game servers in cluster mode on a real redis-server, real GameClients.
 * The highest chat seq a player's session accepted travels with its seat in the handoff
 * checkpoint, so the new owner's resumed welcome carries it and a line whose chatAccepted died
 * on the old node is neither sent again nor shown twice.
 */
import { expect, it } from 'vitest';
import type { ChatAcceptedEvent, ChatEvent, WelcomeEvent } from '../../client/net/game-client-types.js';
import { cut, CuttableWebSocket } from '../client/net/helpers/cuttable-transports.js';
import { setDrainingSeenBy, useGameCluster } from './cluster/fixture.js';
import { describeWithRedis, until } from './cluster/redis-server.js';

describeWithRedis('the chat outbox on a cluster', () => {
  const fx = useGameCluster();

  it('the last accepted chat seq moves with the seat on a drain handoff: the line is settled by the new owner\'s welcome, shown once', async () => {
    const [a, b] = await fx.startCluster(2);
    await setDrainingSeenBy(b, true, a); // the room starts on A
    const ann = fx.client(a, 'ann', 'hall', 'websocket', { WebSocket: CuttableWebSocket });
    const ben = fx.client(a, 'ben', 'hall', 'webtransport');
    const annWelcomes: WelcomeEvent[] = [];
    const accepted: ChatAcceptedEvent[] = [];
    const heardByBen: ChatEvent[] = [];
    ann.on('welcome', (w) => annWelcomes.push(w));
    ann.on('chatAccepted', (m) => accepted.push(m));
    ben.on('chat', (m) => heardByBen.push(m));
    await ann.connect();
    await ben.connect();
    expect(ann.welcome!.nodeId).toBe(a.cluster!.nodeId);
    await setDrainingSeenBy(b, false, a); // B is open again, as A's drain target

    expect(ann.sendChat('one')).toBe(true);
    await until('one accepted', () => accepted.length === 1);
    // A accepts 'two' and shows it, but its chatAccepted never reaches Ann: the line stays on
    // her wire, unsettled, when the room moves.
    cut.dropOnAccepted = false;
    cut.chatAccepted = true;
    expect(ann.sendChat('two')).toBe(true);
    await until('Ben hears two', () => heardByBen.some((m) => m.text === 'two'));
    await until('the chatAccepted swallowed', () => !cut.chatAccepted);
    cut.dropOnAccepted = true;
    expect(ann.stats().chatPending).toBe(1);

    await a.drain({ deadlineMs: 8_000, reconnectJitterMs: 300 });
    await until('both on B', () => [ann, ben].every((c) => c.connected && c.welcome?.nodeId === b.cluster!.nodeId), 30_000);
    // The room's checkpoint (the handoff's, or B's own since) carries Ann's seq with her seat.
    const checkpoint = await b.cluster!.node.checkpoints.load('hall');
    expect(checkpoint?.seats.find((s) => s.playerId === 'ann')?.lastChatSeq).toBe(2);
    const back = annWelcomes.at(-1)!;
    expect(back).toMatchObject({ resumed: true, lastChatSeq: 2, nodeId: b.cluster!.nodeId });
    expect(accepted).toEqual([{ seq: 1, text: 'one' }, { seq: 2, text: 'two' }]);
    expect(ann.stats()).toMatchObject({ chatPending: 0, chatResent: 0, chatUnsent: 0 });

    expect(ann.sendChat('three')).toBe(true);
    await until('Ben hears three', () => heardByBen.some((m) => m.text === 'three'), 10_000);
    expect(heardByBen.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(accepted.at(-1)).toEqual({ seq: 3, text: 'three' });
  }, 90_000);
});
