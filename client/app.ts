/**
 * The demo game: wires a GameClient (client/net) to the world view, the Pixi arena, the HUD,
 * the chat panel and the controls, and publishes `window.tickwire` for tests and the curious.
 * A spectator (the watch page) gets a free camera (client/game/free-camera.ts) instead of
 * movement controls, and the chat read-only.
 */
import type { GameClientEvents, GameClientStats } from './net/game-client-types.js';
import { ChatLog } from './game/chat-log.js';
import { formatHud, transportLabel, type HudText } from './game/hud-model.js';
import { RateMeter, lossShare } from './game/rates.js';
import { WorldView, type FrameEntity } from './game/world-view.js';
import { ArenaRenderer, type RendererKind } from './render/arena.js';
import { ChatPanel } from './ui/chat-panel.js';
import { HudView } from './ui/hud.js';
import { InputBinder } from './ui/input-binder.js';
import { CameraBinder } from './ui/camera-binder.js';
import { FreeCamera } from './game/free-camera.js';
import { installDebugObject, FrameSampleRing } from './debug.js';

/** The part of client/net's GameClient the page uses (the local preview offers it too). */
export interface GameClientLike {
  on<K extends keyof GameClientEvents>(event: K, listener: (payload: GameClientEvents[K]) => void): () => void;
  connect(): Promise<unknown>;
  setInput(dx: number, dy: number): void;
  sendChat(text: string): boolean;
  /** A spectator's camera centre (client/net GameClient; the preview has none). */
  setCamera?(x: number, y: number): void;
  stats(): GameClientStats;
  readonly state: string;
}

export interface GameAppOptions {
  client: GameClientLike;
  doc: Document;
  stage: HTMLElement;
  /** The name we joined with (shown on `window.tickwire.name`). */
  name: string;
  /** Renderer Pixi tries first (default: accelerated WebGL, else Canvas 2D). */
  renderer?: RendererKind;
  /** Watch without playing (the client holds a spectator ticket): a free camera, the chat read-only. */
  spectator?: boolean;
  now?: () => number;
}

/** HUD refresh period: the numbers are readable, and the DOM is not touched every frame. */
const HUD_REFRESH_MS = 250;
/** Recent errors kept for `window.tickwire.errors`. */
const ERROR_LOG_LIMIT = 20;
/** Recent connection status lines kept for `window.tickwire.statusLog`. */
const STATUS_LOG_LIMIT = 20;

export class GameApp {
  readonly view = new WorldView();
  readonly chatLog = new ChatLog();
  readonly samples = new FrameSampleRing();
  private readonly snapshotsMeter = new RateMeter();
  private readonly lostMeter = new RateMeter();
  private readonly bytesMeter = new RateMeter();
  private readonly hud: HudView;
  /** The cluster node of the latest welcome (null on a single server). */
  private node: string | null = null;
  private readonly chat: ChatPanel;
  private input: InputBinder | null = null;
  /** A spectator's camera and its controls (null for a player). */
  private readonly camera: FreeCamera | null;
  private cameraControls: CameraBinder | null = null;
  private sentCamera: [number, number] | null = null;
  private lastFrameAt: number | null = null;
  private renderer: ArenaRenderer | null = null;
  private lastHud = -Infinity;
  private lastFrame: FrameEntity[] = [];
  private sentDir: [number, number] = [0, 0];
  private frames = 0;
  private ownEntity: number | null = null;
  private playerId: string | null = null;
  private fallbackReason: string | null = null;
  private statusText = 'connecting…';
  private readonly statusLog: string[] = [];
  private rejected = 0;
  private readonly errors: string[] = [];
  private readonly now: () => number;
  private connectStartedAt: number | null = null;
  private welcomeAt: number | null = null;

  constructor(private readonly o: GameAppOptions) {
    this.now = o.now ?? (() => performance.now());
    this.hud = new HudView(o.doc);
    this.chat = new ChatPanel(o.doc, (t) => o.client.sendChat(t), this.now);
    this.camera = o.spectator ? new FreeCamera() : null;
    if (o.spectator) this.chat.readOnly('Watching: the chat is read-only');
    this.wire();
  }

  /** Creates the renderer, installs `window.tickwire`, starts the frame loop and connects. */
  async start(win: Window & { tickwire?: unknown }): Promise<void> {
    this.renderer = await ArenaRenderer.create(this.o.stage, this.o.renderer);
    const renderer = this.renderer;
    if (this.camera) {
      this.cameraControls = new CameraBinder({
        surface: this.o.stage,
        camera: this.camera,
        pixelsPerUnit: () => renderer.pixelsPerUnit,
        keysBlocked: () => this.chat.typing,
      });
    } else {
      this.input = new InputBinder({
        surface: this.o.stage,
        toWorld: (x, y) => renderer.toWorld(x, y),
        keysBlocked: () => this.chat.typing,
      });
    }
    installDebugObject(win, this.debugSource());
    renderer.onFrame(() => this.frame());
    this.refreshHud(this.now());
    this.connectStartedAt = this.now();
    this.o.client.connect().catch((e: unknown) => this.logError(`connect failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  private wire(): void {
    const c = this.o.client;
    c.on('welcome', (w) => {
      this.welcomeAt ??= this.now();
      this.node = w.nodeId ?? null;
      this.ownEntity = w.entityId;
      this.playerId = w.playerId;
      if (!w.resumed) {
        this.chatLog.clear();
        this.chat.render(this.chatLog.all);
      }
      this.view.welcome(w);
      this.camera?.setWorld(w.worldW, w.worldH);
      this.status = '';
    });
    c.on('snapshot', (s) => this.view.snapshot(s, c.stats().rttMs));
    c.on('input', (rec) => this.view.input(rec));
    c.on('playerJoined', (p) => this.view.playerJoined(p));
    c.on('playerLeft', (p) => this.view.playerLeft(p));
    c.on('chat', (m) => {
      this.chatLog.add({ id: m.id, entityId: m.entityId, name: m.name, text: m.text, own: m.entityId === this.ownEntity });
      // Straight away, not on the next frame: a page in the background gets (almost) no frames.
      this.chat.render(this.chatLog.all);
    });
    c.on('chatRejected', (r) => {
      this.rejected++;
      this.chat.rateLimited(r.retryAfterMs, r.reason);
    });
    // The outbox resends a line refused for now; a line it gave up without a refusal to show
    // (the session was lost with it on the wire) gets a notice of its own.
    c.on('chatUnsent', (u) => {
      if (u.reason === 'session_lost') this.chat.say('A line may not have been sent: the connection was lost');
    });
    c.on('transport', (t) => {
      this.fallbackReason = t.fallbackReason ?? null;
    });
    c.on('reconnecting', (r) => {
      this.status = `reconnecting (attempt ${r.attempt}) in ${(r.delayMs / 1000).toFixed(1)} s: ${r.reason}`;
    });
    c.on('drain', (d) => {
      this.status = `server restarting: moving over in ${(d.reconnectInMs / 1000).toFixed(1)} s`;
    });
    c.on('close', (e) => {
      this.status = `disconnected (${e.code}${e.reason ? `: ${e.reason}` : ''}) — reload to play again`;
    });
    c.on('error', (e) => this.logError(e.code ? `${e.code} ${e.message}` : e.message));
  }

  private frame(): void {
    const now = this.now();
    this.frames++;
    const dt = this.lastFrameAt === null ? 0 : now - this.lastFrameAt;
    this.lastFrameAt = now;
    if (this.camera) {
      this.cameraControls?.frame(dt);
      this.renderer?.setCamera(this.camera.view());
      // The server shares with a spectator the encodings of the cell it looks at: tell it where.
      const at: [number, number] = [Math.round(this.camera.x), Math.round(this.camera.y)];
      if (!this.sentCamera || at[0] !== this.sentCamera[0] || at[1] !== this.sentCamera[1]) {
        this.sentCamera = at;
        this.o.client.setCamera?.(at[0], at[1]);
      }
    } else {
      const own = this.view.ownPosition(now);
      const dir = this.input?.direction(own) ?? [0, 0];
      if (dir[0] !== this.sentDir[0] || dir[1] !== this.sentDir[1]) {
        this.sentDir = dir;
        this.o.client.setInput(dir[0], dir[1]);
      }
    }
    const entities = this.view.frame(now);
    this.lastFrame = entities;
    this.samples.add(now, entities);
    const { w, h } = this.view.world;
    this.renderer?.draw(entities, w, h, this.input?.pointerTarget ?? null);
    if (now - this.lastHud >= HUD_REFRESH_MS) this.refreshHud(now);
  }

  private refreshHud(now: number): void {
    this.lastHud = now;
    const s = this.o.client.stats();
    this.snapshotsMeter.add(now, s.snapshotsReceived);
    this.lostMeter.add(now, s.datagramsLost);
    this.bytesMeter.add(now, s.bytesDown.reliable + s.bytesDown.unreliable);
    this.hud.show(formatHud(this.hudValues(s)));
    this.hud.setStatus(this.status || (s.connected ? '' : 'connecting…'));
    this.chat.render(this.chatLog.all);
  }

  private hudValues(s: GameClientStats) {
    return {
      transport: s.transport,
      rttMs: s.rttMs,
      snapshotsPerSec: this.snapshotsMeter.perSecond(),
      loss: lossShare(this.snapshotsMeter, this.lostMeter),
      downBytesPerSec: this.bytesMeter.perSecond(),
      interpDelayMs: this.view.interpDelayMs,
      players: this.view.entityCount,
      node: this.node,
    };
  }

  /** The connection status line (HUD); every change is also logged for `statusLog`. */
  private get status(): string {
    return this.statusText;
  }

  private set status(text: string) {
    if (text === this.statusText) return;
    this.statusText = text;
    if (text === '') return;
    this.statusLog.push(text);
    if (this.statusLog.length > STATUS_LOG_LIMIT) this.statusLog.shift();
  }

  private logError(text: string): void {
    this.errors.push(text);
    if (this.errors.length > ERROR_LOG_LIMIT) this.errors.shift();
  }

  private debugSource() {
    const c = this.o.client;
    return {
      transport: () => c.stats().transport,
      transportLabel: () => transportLabel(c.stats().transport),
      connected: () => c.stats().connected,
      state: () => c.state,
      rttMs: () => c.stats().rttMs,
      snapshotsReceived: () => c.stats().snapshotsReceived,
      snapshotsPerSec: () => this.snapshotsMeter.perSecond(),
      loss: () => lossShare(this.snapshotsMeter, this.lostMeter),
      downBytesPerSec: () => this.bytesMeter.perSecond(),
      entities: () => this.view.entityCount,
      interpDelayMs: () => this.view.interpDelayMs,
      interpTargetMs: () => this.view.interpTargetMs,
      jitterMs: () => this.view.jitterMs,
      starvedFrames: () => this.view.starvedFrames,
      predictionCorrection: () => this.view.lastCorrection,
      chat: () => this.chatLog.all.map((l) => `${l.name}: ${l.text}`),
      chatNotice: () => this.chat.noticeText,
      chatRejected: () => this.rejected,
      ownEntityId: () => this.ownEntity,
      spectator: () => this.camera !== null,
      camera: () => this.camera?.view() ?? null,
      playerId: () => this.playerId,
      name: () => this.o.name,
      renderer: () => this.renderer?.rendererName ?? null,
      frames: () => this.frames,
      positions: () => this.lastFrame.map((e) => ({ id: e.id, x: e.x, y: e.y, own: e.own, name: e.name })),
      hud: (): HudText | null => this.hud.text,
      status: () => this.status,
      statusLog: () => [...this.statusLog],
      fallbackReason: () => this.fallbackReason,
      errors: () => [...this.errors],
      stats: () => c.stats(),
      samples: (sinceMs?: number) => this.samples.since(sinceMs ?? -Infinity),
      clientPointOf: (x: number, y: number) => this.renderer?.toClient(x, y) ?? null,
      now: () => this.now(),
      pointerTarget: () => this.input?.pointerTarget ?? null,
      connectStartedAt: () => this.connectStartedAt,
      welcomeAt: () => this.welcomeAt,
    };
  }
}
