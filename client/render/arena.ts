/**
 * The Pixi.js v8 view of the arena: the world (1000x1000 in the standard scene) scaled to fit
 * the window, a grid so motion reads at a glance, and every player as a coloured disc with a
 * facing notch and its name; the own player is ringed and labelled "(you)".
 *
 * Pixi picks WebGL, then WebGPU, then its Canvas 2D renderer, so the page draws with software
 * rendering too (headless browsers without a GPU); `rendererName` says which one it got.
 */
import { Application, Container, Graphics, Text } from 'pixi.js';
import type { CameraView } from '../game/free-camera.js';
import type { FrameEntity } from '../game/world-view.js';
import { wrapCopies } from '../game/wrap.js';
import { isSoftwareWebGL, webglRendererName } from './webgl-probe.js';

/** Disc radius in world units (a player is clearly visible on a 1000-unit arena). */
const PLAYER_RADIUS = 14;
/** Fraction of the window the arena may fill (room for the panels' breathing space). */
const ARENA_FILL = 0.96;
const BACKGROUND = 0x0b0f17;
const ARENA_FLOOR = 0x111a2b;
const GRID = 0x1d2a44;
const OWN_RING = 0xffd36b;
/** Screen pixels a name needs above a player before the window's top edge. */
const LABEL_ROOM_PX = 18;

export type RendererKind = 'webgl' | 'webgpu' | 'canvas';

interface PlayerSprite {
  body: Graphics;
  /** Copies of the body drawn across the wrapping edges (pool; extra ones hidden). */
  ghosts: Graphics[];
  label: Text;
  own: boolean;
  name: string;
}

/**
 * Within this distance of an edge a player is also drawn on the opposite side, so crossing an
 * edge looks like sliding through it (the body with its facing notch is 25 units across).
 */
const GHOST_MARGIN = PLAYER_RADIUS + 12;

/** Golden-angle hues: neighbouring entity ids get clearly different colours. */
export function colorForEntity(id: number): number {
  const h = ((id * 137.508) % 360) / 360;
  const s = 0.62;
  const l = 0.6;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const ch = (t: number): number => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(v * 255);
  };
  return (ch(h + 1 / 3) << 16) | (ch(h) << 8) | ch(h - 1 / 3);
}

export class ArenaRenderer {
  private readonly arena = new Container();
  private readonly floor = new Graphics();
  /** Player bodies, clipped to the arena so wrap copies only show inside it. */
  private readonly players = new Container();
  private readonly clip = new Graphics();
  /** Names, not clipped (a name above a player at the top edge may overhang). */
  private readonly labels = new Container();
  /** Where a click or touch told the own player to walk. */
  private readonly marker = new Graphics();
  private readonly sprites = new Map<number, PlayerSprite>();
  private worldW = 0;
  private worldH = 0;
  private scale = 1;
  /** A spectator's free camera (null: the whole world, centred, as a player sees it). */
  private camera: CameraView | null = null;

  private constructor(private readonly app: Application, private readonly host: HTMLElement) {
    this.marker.circle(0, 0, 7).stroke({ color: OWN_RING, width: 2, alpha: 0.8 });
    this.marker.moveTo(-11, 0).lineTo(11, 0).moveTo(0, -11).lineTo(0, 11).stroke({ color: OWN_RING, width: 2, alpha: 0.8 });
    this.marker.visible = false;
    this.arena.addChild(this.floor, this.marker, this.players, this.clip, this.labels);
    this.players.mask = this.clip;
    app.stage.addChild(this.arena);
  }

  /**
   * Creates the Pixi application inside `host`, sized to it.
   *
   * By default WebGL is used only when it is hardware accelerated: a software WebGL
   * (SwiftShader in a GPU-less headless browser) measured 4-10 frames/s here where Pixi's
   * Canvas 2D renderer held 60 (see webgl-probe.ts). `preference` forces a renderer first, the
   * others remaining fallbacks.
   */
  static async create(host: HTMLElement, preference?: RendererKind): Promise<ArenaRenderer> {
    const first = preference ?? (isSoftwareWebGL(webglRendererName(host.ownerDocument)) ? 'canvas' : 'webgl');
    const order: RendererKind[] = [first, ...(['webgl', 'canvas', 'webgpu'] as const).filter((k) => k !== first)];
    const app = new Application();
    await app.init({
      resizeTo: host,
      background: BACKGROUND,
      antialias: true,
      autoDensity: true,
      resolution: Math.min(2, globalThis.devicePixelRatio || 1),
      preference: order,
    });
    host.appendChild(app.canvas);
    return new ArenaRenderer(app, host);
  }

  /** 'webgl', 'webgpu' or 'canvas'. */
  get rendererName(): string {
    return this.app.renderer.name;
  }

  get canvas(): HTMLCanvasElement {
    return this.app.canvas;
  }

  /** Calls `fn` before every rendered frame (Pixi's ticker, driven by requestAnimationFrame). */
  onFrame(fn: () => void): void {
    this.app.ticker.add(fn);
  }

  /**
   * Looks through a free camera from now on (a spectator): its point at the view's centre, the
   * world `zoom` times larger than when it fits the window. Null: back to the fitted world.
   */
  setCamera(camera: CameraView | null): void {
    this.camera = camera ? { x: camera.x, y: camera.y, zoom: camera.zoom } : null;
  }

  /** Draws one frame's entities in a world of the given size, and the pointer target if any. */
  draw(entities: readonly FrameEntity[], worldW: number, worldH: number, target: { x: number; y: number } | null = null): void {
    this.layout(worldW, worldH);
    this.marker.visible = target !== null;
    if (target) this.marker.position.set(target.x, target.y);
    const seen = new Set<number>();
    for (const e of entities) {
      seen.add(e.id);
      let s = this.sprites.get(e.id);
      if (!s || s.own !== e.own) {
        if (s) this.removeSprite(e.id, s);
        s = this.makeSprite(e);
        this.sprites.set(e.id, s);
      }
      if (s.name !== e.name) {
        s.name = e.name;
        s.label.text = e.own ? `${e.name} (you)` : e.name;
      }
      s.body.position.set(e.x, e.y);
      s.body.rotation = e.angle;
      const copies = wrapCopies(e.x, e.y, worldW, worldH, GHOST_MARGIN);
      while (s.ghosts.length < copies.length) {
        const g = s.body.clone();
        s.ghosts.push(g);
        this.players.addChild(g);
      }
      s.ghosts.forEach((g, i) => {
        const c = copies[i];
        g.visible = c !== undefined;
        if (c) {
          g.position.set(e.x + c[0], e.y + c[1]);
          g.rotation = e.angle;
        }
      });
      // Keep the label upright and at screen size whatever the arena's scale.
      // Names go above the player, or below it where the top of the window would cut them off.
      const above = this.arena.y + (e.y - PLAYER_RADIUS - 10) * this.scale > LABEL_ROOM_PX;
      s.label.anchor.set(0.5, above ? 1 : 0);
      s.label.position.set(e.x, above ? e.y - PLAYER_RADIUS - 10 : e.y + PLAYER_RADIUS + 10);
      s.label.scale.set(1 / this.scale);
    }
    for (const [id, s] of this.sprites) if (!seen.has(id)) this.removeSprite(id, s);
    // The own player on top.
    const own = entities.find((e) => e.own);
    const ownSprite = own ? this.sprites.get(own.id) : undefined;
    if (ownSprite && this.players.children[this.players.children.length - 1] !== ownSprite.body) {
      for (const g of ownSprite.ghosts) this.players.addChild(g);
      this.players.addChild(ownSprite.body);
      this.labels.addChild(ownSprite.label);
    }
  }

  /** CSS pixels one world unit takes on screen now. */
  get pixelsPerUnit(): number {
    return this.scale;
  }

  /** World coordinates under a client (CSS pixel) point, or null outside the arena. */
  toWorld(clientX: number, clientY: number): { x: number; y: number } | null {
    const rect = this.app.canvas.getBoundingClientRect();
    const x = (clientX - rect.left - this.arena.x) / this.scale;
    const y = (clientY - rect.top - this.arena.y) / this.scale;
    if (x < 0 || y < 0 || x >= this.worldW || y >= this.worldH) return null;
    return { x, y };
  }

  /** Client (CSS pixel) point where world point (x, y) is drawn. */
  toClient(x: number, y: number): { x: number; y: number } {
    const rect = this.app.canvas.getBoundingClientRect();
    return { x: rect.left + this.arena.x + x * this.scale, y: rect.top + this.arena.y + y * this.scale };
  }

  destroy(): void {
    this.app.destroy(true, { children: true });
  }

  private layout(worldW: number, worldH: number): void {
    const w = this.host.clientWidth || this.app.screen.width;
    const h = this.host.clientHeight || this.app.screen.height;
    const cam = this.camera;
    const scale = (Math.min(w / worldW, h / worldH) || 1) * ARENA_FILL * (cam?.zoom ?? 1);
    const sizeChanged = worldW !== this.worldW || worldH !== this.worldH;
    // The camera's point at the view's centre (without one, the world's centre).
    const cx = cam?.x ?? worldW / 2;
    const cy = cam?.y ?? worldH / 2;
    const x = w / 2 - cx * scale;
    const y = h / 2 - cy * scale;
    if (sizeChanged || scale !== this.scale || x !== this.arena.x || y !== this.arena.y) {
      this.scale = scale;
      this.arena.scale.set(scale);
      this.arena.position.set(x, y);
    }
    if (sizeChanged) {
      this.worldW = worldW;
      this.worldH = worldH;
      this.drawFloor();
      this.clip.clear().rect(0, 0, worldW, worldH).fill(0xffffff);
    }
  }

  private drawFloor(): void {
    const g = this.floor;
    const { worldW: w, worldH: h } = this;
    g.clear();
    g.rect(0, 0, w, h).fill(ARENA_FLOOR);
    const step = 100;
    for (let x = step; x < w; x += step) g.moveTo(x, 0).lineTo(x, h);
    for (let y = step; y < h; y += step) g.moveTo(0, y).lineTo(w, y);
    g.stroke({ color: GRID, width: 2 });
    g.rect(0, 0, w, h).stroke({ color: 0x34507e, width: 4 });
  }

  private makeSprite(e: FrameEntity): PlayerSprite {
    const body = new Graphics();
    const color = colorForEntity(e.id);
    if (e.own) body.circle(0, 0, PLAYER_RADIUS + 6).stroke({ color: OWN_RING, width: 4 });
    body.circle(0, 0, PLAYER_RADIUS).fill(color);
    // Facing notch: a small triangle on the rim, pointing along angle 0 (+x) before rotation.
    body.poly([PLAYER_RADIUS + 1, -6, PLAYER_RADIUS + 11, 0, PLAYER_RADIUS + 1, 6]).fill(e.own ? OWN_RING : 0xe8eef7);
    const label = new Text({
      text: e.own ? `${e.name} (you)` : e.name,
      style: { fontFamily: 'system-ui, sans-serif', fontSize: 13, fill: e.own ? OWN_RING : 0xdbe4f0, fontWeight: e.own ? '700' : '500' },
      resolution: 2,
    });
    label.anchor.set(0.5, 1);
    this.players.addChild(body);
    this.labels.addChild(label);
    return { body, ghosts: [], label, own: e.own, name: e.name };
  }

  private removeSprite(id: number, s: PlayerSprite): void {
    for (const g of [s.body, ...s.ghosts]) {
      this.players.removeChild(g);
      g.destroy();
    }
    this.labels.removeChild(s.label);
    s.label.destroy();
    this.sprites.delete(id);
  }
}
