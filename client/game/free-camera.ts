/**
 * A spectator's free camera: where it looks (a world point, the view's centre) and how close
 * (zoom 1 shows the whole world, as a player's view does). Pure: the DOM listeners live in
 * client/ui/camera-binder.ts and the drawing in client/render/arena.ts. The camera stays where
 * the view is filled with world: its centre is kept at least half a view (the world's size over
 * the zoom, halved) from each edge, so at zoom 1 it is the world's centre.
 */

/** Closest zoom: a 1000-unit world shows 250 units across. */
export const MAX_ZOOM = 4;
export const MIN_ZOOM = 1;
/** Pan speed at zoom 1 (world units per second); it scales with 1 / zoom, so the screen speed stays. */
export const PAN_SPEED = 600;
/** Zoom factor of one wheel notch (or one +/- key press). */
export const ZOOM_STEP = 1.25;

export interface CameraView {
  x: number;
  y: number;
  zoom: number;
}

export class FreeCamera implements CameraView {
  x: number;
  y: number;
  zoom = MIN_ZOOM;

  constructor(private worldW = 1000, private worldH = 1000) {
    this.x = worldW / 2;
    this.y = worldH / 2;
  }

  /** A (new) world: the camera goes back to its centre when the size changed. */
  setWorld(w: number, h: number): void {
    if (w === this.worldW && h === this.worldH) return;
    this.worldW = w;
    this.worldH = h;
    this.x = w / 2;
    this.y = h / 2;
  }

  /** Pans along a direction (components in [-1, 1]) for `dtMs`. */
  pan(direction: readonly [number, number], dtMs: number): void {
    if (!(dtMs > 0)) return;
    const d = (PAN_SPEED / this.zoom) * Math.min(dtMs, 250) / 1000;
    this.moveBy(direction[0] * d, direction[1] * d);
  }

  /** Moves by a world offset (a drag). */
  moveBy(dx: number, dy: number): void {
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) return;
    this.x += dx;
    this.y += dy;
    this.clamp();
  }

  /** Multiplies the zoom by `factor`, within [MIN_ZOOM, MAX_ZOOM]. */
  zoomBy(factor: number): void {
    if (!(factor > 0)) return;
    this.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
    this.clamp();
  }

  /** Back to the whole world. */
  reset(): void {
    this.x = this.worldW / 2;
    this.y = this.worldH / 2;
    this.zoom = MIN_ZOOM;
  }

  view(): CameraView {
    return { x: this.x, y: this.y, zoom: this.zoom };
  }

  private clamp(): void {
    const hx = this.worldW / (2 * this.zoom);
    const hy = this.worldH / (2 * this.zoom);
    this.x = Math.min(this.worldW - hx, Math.max(hx, this.x));
    this.y = Math.min(this.worldH - hy, Math.max(hy, this.y));
  }
}
