/**
 * `?preview`: a local stand-in for the network, so the page can be worked on without a server.
 * It runs the standard scene's rules (100 units/s, wrap at the edges) for the own player and a
 * few wandering bots in the page, and emits the same events as client/net's GameClient at the
 * same rates. It is never used when the page talks to a server, and no test relies on it for
 * network behaviour.
 */
import type { GameClientEvents, GameClientStats } from '../net/game-client-types.js';
import type { GameClientLike } from '../app.js';
import { STANDARD_WORLD, stepEntity } from '../../shared/scene.js';
import type { EntityState } from '../../shared/snapshot/view.js';

const BOTS = ['Ada', 'Grace', 'Linus', 'Radia', 'Ken'];

type Listener = (payload: never) => void;

export class LocalPreviewClient implements GameClientLike {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly ents: Array<EntityState & { dx: number; dy: number }> = [];
  private dir: [number, number] = [0, 0];
  private seq = 0;
  private snapId = 0;
  private chatId = 0;
  private snaps = 0;
  state = 'idle';

  constructor(private readonly name: string, private readonly now: () => number = () => performance.now()) {}

  on<K extends keyof GameClientEvents>(event: K, listener: (payload: GameClientEvents[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  async connect(): Promise<unknown> {
    this.state = 'connected';
    this.ents.push({ id: 1, x: 500, y: 500, angle: 0, dx: 0, dy: 0 });
    BOTS.forEach((_, i) => {
      const a = (i / BOTS.length) * Math.PI * 2;
      this.ents.push({ id: i + 2, x: 500 + Math.cos(a) * 250, y: 500 + Math.sin(a) * 250, angle: a, dx: Math.cos(a + 1.6), dy: Math.sin(a + 1.6) });
    });
    const players = [{ entityId: 1, name: this.name, playerId: 'preview' }, ...BOTS.map((n, i) => ({ entityId: i + 2, name: n, playerId: `bot-${i}` }))];
    this.emit('welcome', {
      playerId: 'preview', entityId: 1, name: this.name, roomId: 'preview', tickHz: 60, snapshotHz: 20, resumed: false,
      serverTime: this.now(), worldW: STANDARD_WORLD.width, worldH: STANDARD_WORLD.height, players, transport: 'websocket',
    });
    this.emit('chat', { id: ++this.chatId, entityId: 2, name: 'Ada', text: 'Preview mode: no server, bots run in the page.', t: Date.now() });
    let last = this.now();
    setInterval(() => {
      const t = this.now();
      const dt = (t - last) / 1000;
      last = t;
      this.seq++;
      this.emit('input', { seq: this.seq, dx: this.dir[0], dy: this.dir[1], t });
      for (const e of this.ents) {
        const [dx, dy] = e.id === 1 ? this.dir : [e.dx, e.dy];
        stepEntity(e, dx, dy, dt, STANDARD_WORLD);
        if (e.id !== 1 && Math.random() < 0.02) {
          const a = Math.random() * Math.PI * 2;
          e.dx = Math.cos(a);
          e.dy = Math.sin(a);
        }
      }
      this.snaps++;
      this.emit('snapshot', {
        id: ++this.snapId, serverTime: t, lastInputSeq: this.seq, receivedAt: t,
        entities: this.ents.map(({ id, x, y, angle }) => ({ id, x, y, angle })),
      });
    }, 50);
    return undefined;
  }

  setInput(dx: number, dy: number): void {
    this.dir = [dx, dy];
  }

  sendChat(text: string): boolean {
    this.emit('chat', { id: ++this.chatId, entityId: 1, name: this.name, text, t: Date.now() });
    return true;
  }

  stats(): GameClientStats {
    return {
      transport: null, connected: true, rttMs: null, rttSamples: [], snapshotsReceived: this.snaps, snapshotGapMs: [],
      bytesDown: { reliable: 0, unreliable: 0 }, bytesUp: { reliable: 0, unreliable: 0 }, datagramsLost: 0, reconnects: 0,
      snapshotsDropped: 0, messagesDropped: 0, chatSent: 0, chatAccepted: 0, chatResent: 0, chatUnsent: 0,
      chatOutboxFull: 0, chatPending: 0, chatReceived: 0, chatRepeated: 0, inputsSent: this.seq,
    };
  }

  private emit<K extends keyof GameClientEvents>(event: K, payload: GameClientEvents[K]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (p: GameClientEvents[K]) => void)(payload);
  }
}
