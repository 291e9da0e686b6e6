/**
 * The rooms of one cluster node (docs/cluster.md, "Rooms on a cluster node"): a `RoomManager`
 * whose rooms exist only while this node holds their lease in Redis.
 *
 * - `acquire(room)` claims the room (server/cluster/router.ts): a room this node runs is
 *   returned at once (no Redis); a free room placed here is acquired, its chat history opened
 *   for writing (fenced by the lease), its last checkpoint restored (seats come back as
 *   suspended sessions, resumable by their old tokens), and a checkpointer started; a room
 *   that runs or is placed elsewhere is `remote` (the hello gets WRONG_NODE); Redis away or the
 *   owner not yet expired is `unavailable` (CLUSTER_UNAVAILABLE with a retry time).
 * - The room's tick loop asks the lease before every step; a lease that ends (expired, taken,
 *   fenced) stops the room at once and its sessions end with CLUSTER_UNAVAILABLE: the room
 *   comes back on whichever node the clients reach next, from its last checkpoint.
 * - `drainAll()` hands every room to another node: halt, store the chat outbox, write the final
 *   checkpoint, pass the lease (only the target may take it), then the session layer tells the
 *   clients where their room went.
 * - An empty room lingers like a single server's, then releases its lease and discards its
 *   checkpoint (fenced).
 *
 * Loaded only with `cluster` (server/cluster-mode.ts imports it dynamically with the rest of
 * the cluster), so a single server never loads Redis code.
 *
 * Size: about 500 lines, over the ~400 of the guide, because acquire, handoff on drain, restore
 * after a crash and shutdown are one lifecycle per room entry (the lease, the checkpoint timer
 * and the holds move together); the Redis parts it calls live in server/cluster/.
 */
import { CHAT_HISTORY_LIMIT } from '../chat/history.js';
import type { ChatMessage } from '../chat/types.js';
import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { ChatWriterLostReason } from '../cluster/chat-fanout.js';
import { CHECKPOINT_FORMAT, type RoomCheckpoint, type SeatCheckpoint, type WatcherCheckpoint } from '../cluster/checkpoint.js';
import { CHECKPOINT_INTERVAL_MS, RoomCheckpointer } from '../cluster/checkpoint-store.js';
import { chatAuthorKey } from '../cluster/chat-stream.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { LeaseLostReason, RoomLease } from '../cluster/lease.js';
import type { NodeRecord, RoomEntry } from '../cluster/node-registry.js';
import { isRedisUnavailable } from '../cluster/redis.js';
import { ROUTE_RETRY_MS } from '../cluster/router.js';
import { Room } from './room.js';
import { EMPTY_ROOM_LINGER_MS, MAX_ROOMS, ROOM_CAP_RETRY_AFTER_MS, ROOM_ID_PATTERN, type RoomLookup, type RoomManager, type SeatAdmission } from './room-manager.js';
import type { RoomDefinition } from './types.js';

/** `retryAfterMs` for a hello that arrives while its room is being handed over from this node. */
export const HANDOFF_RETRY_MS = 250;
/** Longest a handoff waits for the room's chat outbox to be stored before the final checkpoint. */
export const HANDOFF_CHAT_SETTLE_MS = 2_000;
/** Longest a node shutting down waits for each room's chat outbox before its final checkpoint. */
export const SHUTDOWN_CHAT_SETTLE_MS = 500;

/** What the session layer does for the cluster's rooms (wired by server/cluster-mode.ts). */
export interface ClusterRoomHooks {
  /**
   * A room was restored from a checkpoint: its seats are in the room as suspended players; make
   * them resumable. Returns how many sessions now hold the room.
   */
  restored(room: Room, seats: readonly SeatCheckpoint[], watchers: readonly WatcherCheckpoint[]): number;
  /** The room stopped here without a handoff (its lease ended): end its sessions. */
  lost(roomId: string, retryAfterMs: number): void;
  /** The hash of a seated player's (or spectator's) resume token, for checkpoints (null: not resumable). */
  tokenHash(roomId: string, playerId: string, spectator?: boolean): string | null;
  /** A seated player's session's highest accepted chat seq (0: none or no session), for checkpoints. */
  lastChatSeq(roomId: string, playerId: string): number;
}

export interface ClusterRoomManagerOptions {
  node: ClusterNode;
  scheduler: Scheduler;
  metrics?: GameMetrics;
  rooms?: Record<string, RoomDefinition>;
  /** For ids not in `rooms`; null means such ids are unknown rooms. */
  defaultDefinition: RoomDefinition | null;
  hooks: ClusterRoomHooks;
  tickHz?: number;
  snapshotHz?: number;
  seed?: number;
  staggerSnapshots?: boolean;
  emptyRoomLingerMs?: number;
  maxRooms?: number;
  checkpointIntervalMs?: number;
}

/** Where a drained room went: the node and its public HTTP base (the drain notice names both). */
export interface HandoffTarget {
  nodeId: string;
  httpUrl: string;
}

/** What a start ended with: the running room, or what to answer instead. */
type Started = { entry: Entry; lookup?: undefined } | { entry: null; lookup: RoomLookup };

interface Entry {
  readonly room: Room;
  readonly lease: RoomLease;
  readonly checkpointer: RoomCheckpointer;
  /** Holds (acquire minus release); a room without holds and players lingers, then closes. */
  holds: number;
  linger: Timer | null;
  seatTimer: Timer | null;
  state: 'running' | 'moving' | 'closed';
}

export interface ClusterRoomStats {
  started: number;
  restored: number;
  handedOver: number;
  lost: number;
  closedEmpty: number;
  startFailures: number;
  /** Restored seats whose chat seq the stream raised past their checkpoint's (lines after it). */
  chatSeqsRaised: number;
}

export class ClusterRoomManager implements RoomManager {
  readonly stats: ClusterRoomStats = { started: 0, restored: 0, handedOver: 0, lost: 0, closedEmpty: 0, startFailures: 0, chatSeqsRaised: 0 };
  private readonly entries = new Map<string, Entry>();
  /** Rooms being started (claimed, history and checkpoint loading): concurrent hellos share one start. */
  private readonly starting = new Map<string, Promise<Started>>();
  private readonly node: ClusterNode;
  private closed = false;

  constructor(private readonly options: ClusterRoomManagerOptions) {
    this.node = options.node;
  }

  /** The definition a room id gets here (every node has the same configuration), or null. */
  definition(roomId: string): RoomDefinition | null {
    if (!ROOM_ID_PATTERN.test(roomId)) return null;
    return Object.hasOwn(this.options.rooms ?? {}, roomId) ? this.options.rooms![roomId] : this.options.defaultDefinition;
  }

  /** True while this node runs the room with a valid lease (answers connect-info without Redis). */
  runsRoom(roomId: string): boolean {
    const entry = this.entries.get(roomId);
    return !!entry && entry.state === 'running' && entry.lease.valid();
  }

  /** Ids of the rooms this node runs (published in the node registry, for /api/status). */
  runningIds(): string[] {
    return [...this.entries.values()].filter((e) => e.state === 'running').map((e) => e.room.id);
  }

  /** The rooms this node runs with their counts (published for the cluster-wide lobby). */
  runningEntries(): RoomEntry[] {
    return [...this.entries.values()].filter((e) => e.state === 'running').map(({ room }) => ({
      id: room.id, players: room.playerCount, maxPlayers: room.maxPlayers, spectators: room.spectatorCount, maxSpectators: room.maxSpectators,
    }));
  }

  async acquire(roomId: string): Promise<RoomLookup> {
    const definition = this.closed ? null : this.definition(roomId);
    if (!definition) return { kind: 'unknown' };
    const entry = this.entries.get(roomId);
    if (entry) {
      if (entry.state === 'running' && entry.lease.valid()) return this.hold(entry);
      // Halted for a handoff (or stopping): in a moment connect-info names the next owner.
      return { kind: 'unavailable', retryAfterMs: HANDOFF_RETRY_MS };
    }
    const pending = this.starting.get(roomId);
    if (pending) return this.acquireStarted(await pending);
    if (!this.node.healthy()) return { kind: 'unavailable', retryAfterMs: ROUTE_RETRY_MS };
    if (this.entries.size >= (this.options.maxRooms ?? MAX_ROOMS) && !this.evictLingering()) {
      return { kind: 'busy', retryAfterMs: ROOM_CAP_RETRY_AFTER_MS };
    }
    const attempt = this.claimAndStart(roomId, definition).finally(() => this.starting.delete(roomId));
    this.starting.set(roomId, attempt);
    return this.acquireStarted(await attempt);
  }

  async admit(roomId: string, playerId: string): Promise<SeatAdmission> {
    const entry = this.entries.get(roomId);
    if (!entry || entry.state !== 'running') return { ok: false, reason: 'unavailable', retryAfterMs: HANDOFF_RETRY_MS };
    const seat = await this.node.seats.take(roomId, playerId, entry.room.maxPlayers);
    if (seat.ok) return seat;
    return seat.reason === 'full' ? { ok: false, reason: 'full' } : { ok: false, reason: 'unavailable', retryAfterMs: ROUTE_RETRY_MS };
  }

  release(roomId: string, playerId?: string): void {
    const entry = this.entries.get(roomId);
    if (!entry || entry.state !== 'running') return;
    // The player is not in the room (it left, or its join failed after taking a seat): free it.
    if (playerId !== undefined && !entry.room.getPlayer(playerId)) void this.node.seats.free(roomId, playerId).catch(() => {});
    entry.holds = Math.max(0, entry.holds - 1);
    if (entry.holds > 0 || entry.room.playerCount > 0 || entry.linger) return;
    entry.linger = this.options.scheduler.after(this.options.emptyRoomLingerMs ?? EMPTY_ROOM_LINGER_MS, () => {
      entry.linger = null;
      if (entry.holds > 0 || entry.room.playerCount > 0) return;
      void this.closeEmpty(entry);
    });
  }

  get(roomId: string): Room | undefined {
    const entry = this.entries.get(roomId);
    return entry && entry.state !== 'closed' ? entry.room : undefined;
  }

  list(): Room[] {
    return [...this.entries.values()].filter((e) => e.state !== 'closed').map((e) => e.room);
  }

  /** Stops every room here at once (no final checkpoint: use shutdown() first for that). */
  close(): void {
    this.closed = true;
    for (const entry of [...this.entries.values()]) this.stop(entry);
  }

  /**
   * Leaving the cluster without a drain: every room halts, stores its chat, writes a final
   * checkpoint and releases its lease, so another node can take it at once and its players
   * can resume there (their sessions here are closed afterwards). Empty rooms discard theirs.
   */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.values()].map(async (entry) => {
      if (entry.state !== 'running') return;
      entry.state = 'moving';
      entry.room.halt();
      this.stopTimers(entry);
      try {
        if (entry.room.playerCount === 0) {
          await this.node.checkpoints.discard(entry.room.id, entry.lease.token).catch(() => {});
        } else {
          await this.node.chat.settle(entry.room.id, SHUTDOWN_CHAT_SETTLE_MS);
          await entry.checkpointer.saveNow();
        }
      } finally {
        this.node.chat.closeWriter(entry.room.id);
        await entry.lease.release();
        this.stop(entry);
      }
    }));
  }

  /**
   * Drain: hand every room this node runs to another node (the least loaded that is not
   * draining; this node's draining flag is already published). A room with no other node to go
   * to stays here and ends with the server. Returns where each room went (null: nowhere).
   */
  async drainAll(): Promise<Map<string, HandoffTarget | null>> {
    const out = new Map<string, HandoffTarget | null>();
    await this.node.registry.list().catch(() => []);
    await Promise.all([...this.entries.values()].map(async (entry) => {
      if (entry.state !== 'running') return;
      const target = this.node.registry.pickForNewRoom();
      if (!target || target.nodeId === this.node.nodeId) {
        out.set(entry.room.id, null);
        return;
      }
      out.set(entry.room.id, (await this.handOver(entry, target)) ? { nodeId: target.nodeId, httpUrl: target.httpUrl } : null);
    }));
    return out;
  }

  /** The chat writer of a room ended (server/cluster/chat-fanout.ts onWriterLost). */
  chatWriterLost(roomId: string, reason: ChatWriterLostReason): void {
    const entry = this.entries.get(roomId);
    if (!entry || entry.state !== 'running') return;
    if (reason === 'overflow' || reason === 'gap') {
      // Our ids ran ahead of what is stored (a line was dropped): reopen after the stored top.
      void this.node.chat.openWriter(roomId, entry.lease).then((position) => {
        if (position && entry.state === 'running') entry.room.chat.reposition(position.top);
        else if (entry.state === 'running') this.lose(entry, 'fenced');
      }, () => this.lose(entry, 'expired'));
      return;
    }
    this.lose(entry, reason === 'fenced' ? 'fenced' : 'expired');
  }

  // --- starting a room ------------------------------------------------------------------------

  private acquireStarted(started: Started): RoomLookup {
    if (!started.entry) return started.lookup;
    const { entry } = started;
    if (entry.state !== 'running' || !entry.lease.valid()) return { kind: 'unavailable', retryAfterMs: HANDOFF_RETRY_MS };
    return this.hold(entry);
  }

  private hold(entry: Entry): RoomLookup {
    entry.linger?.cancel();
    entry.linger = null;
    entry.holds++;
    return { kind: 'local', room: entry.room };
  }

  private async claimAndStart(roomId: string, definition: RoomDefinition): Promise<Started> {
    const lookup = (l: RoomLookup): Started => ({ entry: null, lookup: l });
    // A draining node takes no room: it only says where the room is or goes.
    if (this.node.registry.isDraining) {
      const route = await this.node.router.route(roomId);
      if (route.kind === 'unavailable') return lookup({ kind: 'unavailable', retryAfterMs: route.retryAfterMs });
      return lookup(route.node.nodeId === this.node.nodeId ? { kind: 'unavailable', retryAfterMs: ROUTE_RETRY_MS } : { kind: 'remote', nodeId: route.node.nodeId });
    }
    const claim = await this.node.router.claim(roomId);
    if (claim.kind === 'elsewhere') return lookup({ kind: 'remote', nodeId: claim.nodeId });
    if (claim.kind === 'unavailable') return lookup({ kind: 'unavailable', retryAfterMs: claim.retryAfterMs });
    return this.start(roomId, definition, claim.lease);
  }

  private async start(roomId: string, definition: RoomDefinition, lease: RoomLease): Promise<Started> {
    const { node } = this;
    const failed = async (): Promise<Started> => {
      this.stats.startFailures++;
      node.chat.closeWriter(roomId);
      await lease.release();
      return { entry: null, lookup: { kind: 'unavailable', retryAfterMs: ROUTE_RETRY_MS } };
    };
    let checkpoint: RoomCheckpoint | null;
    let chatStart: { epoch: string; lastId: number; history: ChatMessage[] };
    try {
      // The writer first: its position is where the room's ids continue, and opening it proves
      // (fenced) that our lease token is the newest.
      const position = await node.chat.openWriter(roomId, lease);
      if (!position) {
        lease.lose('fenced');
        return { entry: null, lookup: { kind: 'unavailable', retryAfterMs: ROUTE_RETRY_MS } };
      }
      checkpoint = await node.checkpoints.load(roomId);
      if (checkpoint) checkpoint = await this.withStreamChatSeqs(roomId, checkpoint, position);
      const history = position.top > 0
        ? (await node.chat.stream.read(roomId, Math.max(0, position.top - CHAT_HISTORY_LIMIT), CHAT_HISTORY_LIMIT)).messages
        : [];
      chatStart = { epoch: position.epoch, lastId: position.top, history: history.filter((m) => m.id <= position.top) };
    } catch (error) {
      if (!isRedisUnavailable(error)) this.options.metrics?.hookErrors.inc({ hook: 'cluster_start' });
      return failed();
    }
    if (!lease.valid() || this.closed) return failed();
    const holder: { entry: Entry | null } = { entry: null };
    const room = new Room({
      id: roomId,
      definition,
      scheduler: this.options.scheduler,
      fanout: node.chat,
      metrics: this.options.metrics,
      tickHz: this.options.tickHz,
      snapshotHz: this.options.snapshotHz,
      seed: this.options.seed,
      staggerSnapshots: this.options.staggerSnapshots,
      lease,
      onHalted: () => { if (holder.entry) this.lose(holder.entry, 'expired'); },
      chatStart,
      restore: checkpoint ? { tick: checkpoint.tick, nextEntityId: checkpoint.nextEntityId, seats: checkpoint.seats, state: checkpoint.state } : undefined,
    });
    const checkpointer = new RoomCheckpointer({
      store: node.checkpoints, lease, scheduler: this.options.scheduler,
      intervalMs: this.options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
      capture: () => this.capture(entry),
    });
    const entry: Entry = { room, lease, checkpointer, holds: 0, linger: null, seatTimer: null, state: 'running' };
    holder.entry = entry;
    this.entries.set(roomId, entry);
    lease.onLost = (reason) => this.lose(entry, reason);
    checkpointer.start();
    this.stats.started++;
    if (checkpoint) {
      this.stats.restored++;
      entry.holds += this.options.hooks.restored(room, checkpoint.seats, checkpoint.watchers ?? []);
    }
    this.options.metrics?.rooms.set(this.entries.size);
    this.holdSeats(entry);
    return { entry };
  }

  /**
   * The checkpoint with each seat's `lastChatSeq` raised to the highest seq its session has in the
   * chat stream after the checkpoint's position: a line accepted after the last checkpoint (a
   * crash, no final one) is in the stream with its seq, so its resend is known as a repeat.
   * Seqs are per session, so a seat takes only lines of its own session (player id and
   * resume-token hash). When the stream's epoch is not the checkpoint's, every line stored under
   * the current epoch may be newer, so all are read (bounded by the stream's cap).
   */
  private async withStreamChatSeqs(roomId: string, checkpoint: RoomCheckpoint, position: { epoch: string; top: number }): Promise<RoomCheckpoint> {
    const after = checkpoint.chat && checkpoint.chat.epoch === position.epoch ? checkpoint.chat.lastId : 0;
    if (position.top <= after || !checkpoint.seats.some((s) => s.resumeTokenHash !== null)) return checkpoint;
    const { seqs } = await this.node.chat.stream.authorSeqs(roomId, after);
    if (seqs.size === 0) return checkpoint;
    const seats = checkpoint.seats.map((seat) => {
      const seq = seat.resumeTokenHash === null ? undefined : seqs.get(chatAuthorKey(seat.playerId, seat.resumeTokenHash));
      if (seq === undefined || seq <= (seat.lastChatSeq ?? 0)) return seat;
      this.stats.chatSeqsRaised++;
      return { ...seat, lastChatSeq: seq };
    });
    return { ...checkpoint, seats };
  }

  /** The room's state now, as a checkpoint (RoomCheckpointer stamps the lease's token). */
  private capture(entry: Entry): RoomCheckpoint {
    const { room, lease } = entry;
    const state = room.exportState();
    const position = this.node.chat.writerPosition(room.id);
    const checkpoint: RoomCheckpoint = {
      v: CHECKPOINT_FORMAT,
      roomId: room.id,
      token: lease.token,
      savedAt: Date.now(),
      tick: state.tick,
      nextEntityId: state.nextEntityId,
      chat: position ? { epoch: position.epoch, lastId: position.top } : null,
      seats: state.seats.map((s) => ({
        ...s,
        resumeTokenHash: this.options.hooks.tokenHash(room.id, s.playerId),
        lastChatSeq: this.options.hooks.lastChatSeq(room.id, s.playerId),
      })),
    };
    // Spectators follow the room too (each resumes as a spectator on the next owner).
    const watchers: WatcherCheckpoint[] = [];
    for (const m of room.spectators.all()) {
      const hash = this.options.hooks.tokenHash(room.id, m.playerId, true);
      if (hash !== null) watchers.push({ playerId: m.playerId, name: m.name, resumeTokenHash: hash });
    }
    if (watchers.length > 0) checkpoint.watchers = watchers;
    if (state.state !== undefined) checkpoint.state = state.state;
    return checkpoint;
  }

  /** Keeps every player's seat in the shared count, now and every checkpoint interval. */
  private holdSeats(entry: Entry): void {
    entry.seatTimer = null;
    if (entry.state !== 'running') return;
    const ids = [...entry.room.summaries()].map((p) => p.playerId);
    if (ids.length > 0) void this.node.seats.hold(entry.room.id, ids).catch(() => {});
    entry.seatTimer = this.options.scheduler.after(this.options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS, () => this.holdSeats(entry));
  }

  // --- ending a room ----------------------------------------------------------------------------

  /** Drain: halt, store the chat, final checkpoint, pass the lease to `target`. */
  private async handOver(entry: Entry, target: NodeRecord): Promise<boolean> {
    entry.state = 'moving';
    entry.room.halt();
    this.stopTimers(entry);
    const roomId = entry.room.id;
    try {
      await this.node.chat.settle(roomId, HANDOFF_CHAT_SETTLE_MS);
      // Written even if the chat did not settle: the stream top, not the checkpoint, says where
      // chat continues, and the newest seats are worth more than a three-second-old state.
      await entry.checkpointer.saveNow();
      this.node.chat.closeWriter(roomId);
      const passed = await entry.lease.handover(target.nodeId);
      if (passed) this.stats.handedOver++;
      return passed;
    } finally {
      this.node.chat.closeWriter(roomId);
      this.stop(entry);
    }
  }

  /** The lease ended here without a handoff: stop at once and end the room's sessions. */
  private lose(entry: Entry, reason: LeaseLostReason): void {
    if (entry.state === 'closed') return;
    this.stop(entry);
    this.stats.lost++;
    this.node.chat.closeWriter(entry.room.id);
    entry.lease.lose(reason); // idempotent; its onLost comes back here and finds the entry closed
    this.options.hooks.lost(entry.room.id, ROUTE_RETRY_MS);
  }

  /** Lingered out empty: discard the checkpoint (fenced), give the lease back. */
  private async closeEmpty(entry: Entry): Promise<void> {
    if (entry.state !== 'running') return;
    entry.state = 'moving';
    entry.room.halt();
    this.stopTimers(entry);
    this.node.chat.closeWriter(entry.room.id);
    this.stats.closedEmpty++;
    try {
      await this.node.checkpoints.discard(entry.room.id, entry.lease.token).catch(() => {});
    } finally {
      await entry.lease.release();
      this.stop(entry);
    }
  }

  private stopTimers(entry: Entry): void {
    entry.checkpointer.stop();
    entry.linger?.cancel();
    entry.linger = null;
    entry.seatTimer?.cancel();
    entry.seatTimer = null;
  }

  private stop(entry: Entry): void {
    if (entry.state === 'closed') return;
    entry.state = 'closed';
    this.stopTimers(entry);
    entry.room.close();
    if (this.entries.get(entry.room.id) === entry) this.entries.delete(entry.room.id);
    this.options.metrics?.rooms.set(this.entries.size);
  }

  /** At the room cap: the room empty the longest gives up its slot (as InProcessRoomManager). */
  private evictLingering(): boolean {
    for (const entry of this.entries.values()) {
      if (entry.linger && entry.state === 'running') {
        void this.closeEmpty(entry);
        return true;
      }
    }
    return false;
  }
}
