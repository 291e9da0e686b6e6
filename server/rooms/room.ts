/*
 * Size: about 460 lines, over the ~400 of the guide: one room's members, its simulation loop, its
 * chat and its spectators change together under one tick (join, leave, suspend and restore
 * all touch entities, seats and the snapshot frame), so they stay in one class.
 */
import type { Scheduler } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import { CHAT_UNAVAILABLE_RETRY_MS, ChatRoom, type ChatRoomOptions, type ChatSubmitResult } from '../chat/chat-room.js';
import type { ChatFanout } from '../chat/fanout.js';
import type { ChatMessage } from '../chat/types.js';
import { MAX_ROOM_PLAYERS, MAX_WORLD_SIZE, U32_MAX } from '../../shared/limits.js';
import type { PlayerInfo } from '../../shared/messages.js';
import { DEFAULT_SNAPSHOT_HZ, DEFAULT_TICK_HZ, FixedStepLoop } from './tick-loop.js';
import { createRandom } from './random.js';
import { DEFAULT_MAX_SPECTATORS, MAX_ROOM_SPECTATORS, RoomSpectators } from './spectators.js';
import type { RoomState, SeatState } from './room-state.js';
import type { EntityState } from '../../shared/snapshot/view.js';
import type {
  Entity, PlayerInput, RoomContext, RoomDefinition, RoomMember, RoomPlayer, WorldFrame,
} from './types.js';

export const DEFAULT_MAX_PLAYERS = 64;
export const DEFAULT_WORLD = { width: 1000, height: 1000 } as const;
/**
 * Entity ids stay below this so a snapshot codec can carry them in 16 bits; ids are handed out
 * in increasing order and wrap, so a recently freed id is not reused at once (a client could
 * otherwise mistake a new player for the old one within one interpolation window).
 */
export const ENTITY_ID_LIMIT = 65_535;

export interface RoomOptions {
  id: string;
  definition: RoomDefinition;
  scheduler: Scheduler;
  fanout: ChatFanout;
  metrics?: GameMetrics;
  tickHz?: number;
  snapshotHz?: number;
  /** Seed for `RoomContext.random` (spawn points etc.); fixed seeds make tests exact. */
  seed?: number;
  /**
   * Spread snapshot work over the ticks between snapshots (default true): each member is in one
   * of tickHz/snapshotHz phases (entity id modulo), and each tick serves one phase. Every member
   * still gets snapshotHz snapshots a second, but no single tick carries the whole room's
   * encoding (at P=512 that is hundreds of per-client encodings), so the simulation keeps pace.
   */
  staggerSnapshots?: boolean;
  /** Id of the room's first chat line (default 1): a room opened again continues its ids (room-manager.ts). */
  firstChatId?: number;
  /**
   * Cluster mode: the room's lease (server/cluster/lease.ts). The loop asks `valid()` before
   * every step and snapshot and stops for good the moment it says no (then `onHalted` runs):
   * the lease may be about to pass to another node, and two nodes never simulate one room.
   */
  lease?: { valid(): boolean };
  /** The loop stopped because `lease` was no longer valid. */
  onHalted?: () => void;
  /** Cluster mode: where the chat stands on this node (ids continue after it). */
  chatStart?: ChatRoomOptions['start'];
  /**
   * Cluster mode: the state to continue from (another node's `exportState`): the seats come
   * back as suspended players (in the world, standing still, resumable), the tick count and
   * entity ids continue, and the definition's `restore` hook gets its `serialize`d state.
   */
  restore?: RoomState;
}

/** Players (connected or suspended) a room of `definition` holds. */
export function roomMaxPlayers(definition: RoomDefinition): number {
  return Math.min(definition.maxPlayers ?? DEFAULT_MAX_PLAYERS, MAX_ROOM_PLAYERS);
}

/** The member of a restored seat until its player's session resumes: hears nothing. */
const DORMANT_MEMBER = (playerId: string, name: string): RoomMember => ({
  playerId, name, playerJoined() {}, playerLeft() {}, chat() {}, snapshot() {},
});

export type JoinResult = { ok: true; player: RoomPlayer } | { ok: false; reason: 'room_full' | 'hook_error' | 'closed' };

export type InputResult = 'applied' | 'stale' | 'unknown_player';

export type WatchResult = { ok: true } | { ok: false; reason: 'spectators_full' | 'closed' };

interface Membership {
  player: RoomPlayer;
  member: RoomMember;
}

/**
 * One room: players, their entities, the fixed-step loop running the room definition's hooks,
 * chat, and the snapshot frames handed to members. Knows nothing of connections or wire formats.
 */
export class Room {
  readonly id: string;
  readonly world: { width: number; height: number };
  readonly maxPlayers: number;
  /** Members without an entity (server/rooms/spectators.ts). */
  readonly spectators: RoomSpectators;
  readonly chat: ChatRoom;
  readonly loop: FixedStepLoop;
  private readonly definition: RoomDefinition;
  private readonly members = new Map<string, Membership>();
  /** WorldFrame.entities: refilled for every frame (entityCopies). */
  private readonly frameEntities: EntityState[] = [];
  /** Per snapshot phase: WorldFrame.encodeState, kept across frames. */
  private readonly encodeStates: Map<string, unknown>[] = [];
  private readonly players = new Map<string, RoomPlayer>();
  private readonly random: () => number;
  private nextEntityId = 1;
  private unsubscribeChat: () => void;
  private closed = false;
  /** Stopped for a handoff: no more steps, joins or chat, but not closed yet (chat still flushes). */
  private halted = false;
  private readonly context: RoomContext;
  private lastSkipped = 0;
  /** Snapshots a second each member gets (the loop runs its snapshot hook every tick when staggered). */
  readonly snapshotHz: number;
  /** Snapshot phases (1 when not staggered) and, per phase, its id counter and last slot served. */
  private readonly phases: number;
  private readonly phaseCounter: number[];
  private readonly phaseSlot: number[];

  constructor(private readonly options: RoomOptions) {
    this.id = options.id;
    this.definition = options.definition;
    this.world = { ...(options.definition.world ?? DEFAULT_WORLD) };
    if (!(this.world.width >= 1 && this.world.width <= MAX_WORLD_SIZE && this.world.height >= 1 && this.world.height <= MAX_WORLD_SIZE)) {
      throw new RangeError(`room world must be 1..${MAX_WORLD_SIZE} units per side`);
    }
    this.maxPlayers = roomMaxPlayers(options.definition);
    this.random = createRandom(options.seed ?? hashString(options.id));
    this.chat = new ChatRoom({ roomId: options.id, fanout: options.fanout, firstId: options.firstChatId, start: options.chatStart });
    this.unsubscribeChat = options.fanout.subscribe(options.id, (m) => this.deliverChat(m));
    const room = this;
    this.context = {
      id: this.id,
      get tick() { return room.loop.tick; },
      world: this.world,
      players: this.players,
      random: () => this.random(),
      announce: (text) => { this.chat.announce(text, this.options.scheduler.now()); },
    };
    const tickHz = options.tickHz ?? DEFAULT_TICK_HZ;
    this.snapshotHz = options.snapshotHz ?? DEFAULT_SNAPSHOT_HZ;
    if (!(this.snapshotHz > 0) || tickHz % this.snapshotHz !== 0) {
      throw new RangeError(`snapshotHz (${this.snapshotHz}) must be positive and divide tickHz (${tickHz})`);
    }
    this.phases = options.staggerSnapshots === false ? 1 : tickHz / this.snapshotHz;
    this.phaseCounter = new Array<number>(this.phases).fill(0);
    this.phaseSlot = new Array<number>(this.phases).fill(0);
    this.spectators = new RoomSpectators(
      Math.max(0, Math.min(options.definition.maxSpectators ?? DEFAULT_MAX_SPECTATORS, MAX_ROOM_SPECTATORS)), this.phases);
    this.loop = new FixedStepLoop({
      scheduler: options.scheduler,
      tickHz,
      // Staggered: the loop reports every tick and publishSnapshots picks the phases due.
      snapshotHz: this.phases === 1 ? this.snapshotHz : tickHz,
      onStep: (_tick, dt) => this.step(dt),
      onSnapshot: (tick) => this.publishSnapshots(tick),
      canStep: options.lease ? () => options.lease!.valid() : undefined,
      onHalted: () => {
        this.halted = true;
        this.options.onHalted?.();
      },
    });
    // Started first so hooks see the restored tick; the first step runs on a later timer.
    this.loop.start(options.restore?.tick);
    if (options.restore) this.restoreState(options.restore);
  }

  get playerCount(): number {
    return this.players.size;
  }

  get spectatorCount(): number {
    return this.spectators.count;
  }

  get maxSpectators(): number {
    return this.spectators.max;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True once the room stopped stepping for good (halted for a handoff, lease gone, or closed). */
  get isStopped(): boolean {
    return this.closed || this.halted;
  }

  getPlayer(playerId: string): RoomPlayer | undefined {
    return this.players.get(playerId);
  }

  /** Everyone in the room, for the welcome message. */
  summaries(): PlayerInfo[] {
    return [...this.players.values()].map((p) => ({ playerId: p.playerId, entityId: p.entity.id, name: p.name }));
  }

  /** A new player enters: gets an entity, `onJoin` runs, the others are told. */
  join(member: RoomMember): JoinResult {
    if (this.closed || this.halted) return { ok: false, reason: 'closed' };
    if (this.players.size >= this.maxPlayers) return { ok: false, reason: 'room_full' };
    const entity: Entity = { id: this.allocateEntityId(), x: 0, y: 0, angle: 0 };
    const player: RoomPlayer = {
      playerId: member.playerId, name: member.name, entity, input: { dx: 0, dy: 0 }, lastInputSeq: -1, connected: true, data: {},
    };
    this.players.set(player.playerId, player);
    if (!this.callHook('onJoin', () => this.definition.onJoin?.(this.context, player))) {
      this.players.delete(player.playerId);
      return { ok: false, reason: 'hook_error' };
    }
    const summary = { playerId: player.playerId, entityId: entity.id, name: player.name };
    for (const m of this.members.values()) m.member.playerJoined(summary);
    for (const m of this.spectators.all()) m.playerJoined(summary);
    this.members.set(player.playerId, { player, member });
    return { ok: true, player };
  }

  /**
   * A spectator enters (server/rooms/spectators.ts): no entity, no hook, nobody is told; it gets
   * snapshots and chat from now on. Refused when the spectator seats are taken.
   */
  watch(member: RoomMember): WatchResult {
    if (this.closed) return { ok: false, reason: 'closed' };
    return this.spectators.add(member) ? { ok: true } : { ok: false, reason: 'spectators_full' };
  }

  /**
   * Swap in the member object of a resumed session (same player and entity); while suspended
   * the player stays in the world, standing still, and receives nothing.
   */
  reattach(playerId: string, member: RoomMember): RoomPlayer | undefined {
    const membership = this.members.get(playerId);
    if (!membership) return undefined;
    membership.member = member;
    membership.player.connected = true;
    return membership.player;
  }

  /** The player's connection is gone but it may resume: it stops moving. */
  suspend(playerId: string): void {
    const player = this.players.get(playerId);
    if (!player) return;
    player.connected = false;
    player.input = { dx: 0, dy: 0 };
  }

  /**
   * The player is gone for good. In a room that stopped (handed over, lease lost) only the
   * bookkeeping goes: the room lives on elsewhere, where the player may still come back.
   */
  leave(playerId: string): void {
    const membership = this.members.get(playerId);
    if (!membership) return;
    this.members.delete(playerId);
    this.players.delete(playerId);
    this.chat.forget(playerId);
    if (this.closed || this.halted) return;
    const { player } = membership;
    this.callHook('onLeave', () => this.definition.onLeave?.(this.context, player));
    const summary = { playerId, entityId: player.entity.id, name: player.name };
    for (const m of this.members.values()) m.member.playerLeft(summary);
    for (const m of this.spectators.all()) m.playerLeft(summary);
  }

  /**
   * Applies a validated input; older or repeated sequence numbers are stale (redundant copies).
   * `input` is read during the call only (the session decodes into a reused object); an
   * `onInput` hook gets a copy of its own, which it may keep.
   */
  input(playerId: string, input: PlayerInput): InputResult {
    const player = this.players.get(playerId);
    if (!player) return 'unknown_player';
    if (input.seq <= player.lastInputSeq) return 'stale';
    player.lastInputSeq = input.seq;
    if (this.definition.onInput) {
      this.runInputHook(player, input);
    } else {
      const newest = input.inputs[0];
      if (newest) {
        // In place: no object per input (20 a second per player).
        player.input.dx = newest[0];
        player.input.dy = newest[1];
      }
    }
    return 'applied';
  }

  /**
   * A chat line from a player: rate limit, `onChat`, then fan-out to everyone in order.
   * `sharedLimitKey`: a chat limit the player shares with others (ChatSender.sharedLimitKey);
   * `clientSeq`: the line's client seq and the sender's session (ChatSender.clientSeq).
   */
  sendChat(playerId: string, text: string, sharedLimitKey?: string, clientSeq?: { session: string; seq: number }): ChatSubmitResult {
    const player = this.players.get(playerId);
    if (!player) return { ok: false, reason: 'empty', retryAfterMs: 0 };
    if (this.closed || this.halted) return { ok: false, reason: 'unavailable', retryAfterMs: CHAT_UNAVAILABLE_RETRY_MS };
    const hook = this.definition.onChat;
    const transform = hook
      ? (t: string): string | null => {
        let out: string | null = t;
        if (!this.callHook('onChat', () => { const r = hook(this.context, player, t); if (r !== undefined) out = r; })) out = null;
        return out;
      }
      : undefined;
    return this.chat.submit({ playerId, entityId: player.entity.id, name: player.name, sharedLimitKey, clientSeq }, text, this.options.scheduler.now(), transform);
  }

  /**
   * Stop stepping for good, but stay open: chat lines already accepted are still delivered while
   * the fan-out stores them (a handoff halts, flushes chat, takes the final state, then closes).
   * New joins and chat lines are refused from now on.
   */
  halt(): void {
    this.halted = true;
    this.loop.stop();
  }

  /** Stop the loop and detach from chat; members are not told (the session layer closes them). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loop.stop();
    this.unsubscribeChat();
    this.chat.close();
  }

  /**
   * The room's state between ticks, for a checkpoint or a handoff (server/rooms/room-state.ts).
   * Throws when the definition's `serialize` hook throws (counted): that checkpoint is skipped.
   */
  exportState(): RoomState {
    const seats: SeatState[] = [...this.players.values()].map((p) => ({
      playerId: p.playerId,
      name: p.name,
      entity: { id: p.entity.id, x: p.entity.x, y: p.entity.y, angle: p.entity.angle },
      input: { dx: p.input.dx, dy: p.input.dy },
      lastInputSeq: p.lastInputSeq,
      data: p.data,
    }));
    const out: RoomState = { tick: this.loop.tick, nextEntityId: this.nextEntityId, seats };
    if (this.definition.serialize) {
      try {
        out.state = this.definition.serialize(this.context);
      } catch (error) {
        this.options.metrics?.hookErrors.inc({ hook: 'serialize' });
        throw error;
      }
    }
    return out;
  }

  /**
   * Another node's state: every seat comes back as a suspended player (standing still, its
   * session resumable by the session layer), then the definition's `restore` hook runs. Seats
   * past maxPlayers or with an entity id already taken are skipped.
   */
  private restoreState(state: RoomState): void {
    for (const seat of state.seats) {
      if (this.players.size >= this.maxPlayers || this.players.has(seat.playerId)) continue;
      if ([...this.players.values()].some((p) => p.entity.id === seat.entity.id)) continue;
      const { x, y, angle } = seat.entity;
      const player: RoomPlayer = {
        playerId: seat.playerId, name: seat.name, entity: { id: seat.entity.id, x, y, angle },
        input: { dx: 0, dy: 0 }, lastInputSeq: seat.lastInputSeq, connected: false, data: { ...seat.data },
      };
      this.players.set(player.playerId, player);
      this.members.set(player.playerId, { player, member: DORMANT_MEMBER(player.playerId, player.name) });
    }
    if (state.nextEntityId >= 1 && state.nextEntityId <= ENTITY_ID_LIMIT) this.nextEntityId = state.nextEntityId;
    if (this.definition.restore) this.callHook('restore', () => this.definition.restore!(this.context, state.state));
  }

  private deliverChat(message: ChatMessage): void {
    for (const m of this.members.values()) {
      if (m.player.connected) m.member.chat(message);
    }
    for (const m of this.spectators.connected()) m.chat(message);
  }

  private step(dt: number): void {
    const started = performance.now();
    this.callHook('onTick', () => this.definition.onTick?.(this.context, dt));
    const metrics = this.options.metrics;
    if (metrics) {
      metrics.observeTick((performance.now() - started) / 1000);
      const skipped = this.loop.skippedSteps;
      if (skipped > this.lastSkipped) metrics.tickSkipped.inc(skipped - this.lastSkipped);
      this.lastSkipped = skipped;
    }
  }

  /** Snapshot phase of an entity: members are spread evenly by id. */
  phaseOf(entityId: number): number {
    return entityId % this.phases;
  }

  /**
   * After the steps of one wake-up (`tick` the newest): serve every phase whose snapshot tick
   * (tick = phase + k * phases, or every ticksPerSnapshot-th tick when not staggered) passed
   * since it was last served; at most once per phase, with the newest state.
   */
  private publishSnapshots(tick: number): void {
    if (this.phases === 1) {
      this.publishSnapshot(tick, 0);
      return;
    }
    for (let p = 0; p < this.phases; p++) {
      // Phase p is served on ticks q, q + phases, ... with q its first tick (ticks start at 1).
      const q = p === 0 ? this.phases : p;
      if (tick < q) continue;
      const slot = Math.floor((tick - q) / this.phases) + 1;
      if (slot > this.phaseSlot[p]) {
        this.phaseSlot[p] = slot;
        this.publishSnapshot(tick, p);
      }
    }
  }

  /** Builds the frame of this tick once and hands it to every connected member of `phase`. */
  private publishSnapshot(tick: number, phase: number): void {
    const targets: RoomMember[] = [];
    for (const m of this.members.values()) {
      if (m.player.connected && (this.phases === 1 || m.player.entity.id % this.phases === phase)) targets.push(m.member);
    }
    for (const m of this.spectators.connected(this.phases === 1 ? undefined : phase)) targets.push(m);
    if (targets.length === 0) return;
    // Ids count per phase (each member only ever sees its phase's), so a member's ids go up by
    // one per snapshot. They are u32 on the wire and 0 means "no ack": wrap from 2^32-1 to 1.
    const id = this.phaseCounter[phase] >= U32_MAX ? 1 : this.phaseCounter[phase] + 1;
    this.phaseCounter[phase] = id;
    const entities = this.entityCopies();
    const frame: WorldFrame = {
      roomId: this.id, snapshotId: id, tick, time: this.options.scheduler.now(), world: this.world, entities, encodeCache: new Map(),
      encodeState: (this.encodeStates[phase] ??= new Map()),
    };
    const started = performance.now();
    for (const m of targets) m.snapshot(frame);
    this.options.metrics?.observeSnapshot((performance.now() - started) / 1000);
  }

  /**
   * The frame's copies of every player's entity, sorted by id, in `frameEntities`: the same array
   * and objects every frame, refilled in one pass (WorldFrame.entities is read during the
   * snapshot calls only). The sort only runs when ids are out of order (players are held in join
   * order and ids mostly rise; they wrap, and restored seats come in any order).
   */
  private entityCopies(): EntityState[] {
    const out = this.frameEntities;
    const n = this.players.size;
    let i = 0;
    let prev = -1;
    let sorted = true;
    for (const p of this.players.values()) {
      const e = p.entity;
      let copy = out[i];
      if (copy === undefined) {
        copy = { id: e.id, x: e.x, y: e.y, angle: e.angle };
        out.push(copy);
      } else {
        copy.id = e.id;
        copy.x = e.x;
        copy.y = e.y;
        copy.angle = e.angle;
      }
      i++;
      if (e.id <= prev) sorted = false;
      prev = e.id;
    }
    if (out.length > n) out.length = n; // fewer players than the last frame
    if (!sorted) out.sort(byId);
    return out;
  }

  private allocateEntityId(): number {
    const inUse = new Set([...this.players.values()].map((p) => p.entity.id));
    for (let i = 0; i < ENTITY_ID_LIMIT; i++) {
      const id = this.nextEntityId;
      this.nextEntityId = id >= ENTITY_ID_LIMIT ? 1 : id + 1;
      if (!inUse.has(id)) return id;
    }
    throw new Error('no free entity id'); // unreachable: maxPlayers is far below ENTITY_ID_LIMIT
  }

  /**
   * `onInput`, caught and counted like callHook, without its closure: a closure over `player`
   * and `input` would make `input()` allocate a context on every call (20 a second per player),
   * hook or no hook.
   */
  private runInputHook(player: RoomPlayer, input: PlayerInput): void {
    const own: PlayerInput = { seq: input.seq, ack: input.ack, inputs: input.inputs.map(([dx, dy]) => [dx, dy] as const) };
    try {
      this.definition.onInput!(this.context, player, own);
    } catch {
      this.options.metrics?.hookErrors.inc({ hook: 'onInput' });
    }
  }

  /** Runs a hook; returns false (and counts) when it threw. */
  private callHook(name: string, fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch {
      this.options.metrics?.hookErrors.inc({ hook: name });
      return false;
    }
  }
}

function byId(a: EntityState, b: EntityState): number {
  return a.id - b.id;
}

/** FNV-1a, to derive a default seed from the room id. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
