/**
 * A spectator's camera controls: movement keys (WASD, arrows) pan while held, the mouse wheel
 * and the + and - keys zoom, 0 shows the whole world again, and dragging the arena moves the
 * view with the pointer. While the chat box has focus, keys belong to it.
 */
import { isMovementKey, keysToDirection } from '../game/controls.js';
import { ZOOM_STEP, type FreeCamera } from '../game/free-camera.js';

export interface CameraBinderOptions {
  /** Element receiving pointer and wheel input (the arena's host). */
  surface: HTMLElement;
  camera: FreeCamera;
  /** CSS pixels per world unit now (to turn a drag into a world offset). */
  pixelsPerUnit: () => number;
  /** True while keys must be left alone (typing in chat). */
  keysBlocked: () => boolean;
}

export class CameraBinder {
  private readonly held = new Set<string>();
  private drag: { x: number; y: number } | null = null;

  constructor(private readonly o: CameraBinderOptions) {
    const win = o.surface.ownerDocument.defaultView;
    if (!win) throw new Error('surface is not in a window');
    win.addEventListener('keydown', (ev) => {
      if (this.o.keysBlocked()) return;
      if (isMovementKey(ev.code)) {
        ev.preventDefault();
        this.held.add(ev.code);
      } else if (ev.key === '+' || ev.key === '=') {
        o.camera.zoomBy(ZOOM_STEP);
      } else if (ev.key === '-') {
        o.camera.zoomBy(1 / ZOOM_STEP);
      } else if (ev.key === '0') {
        o.camera.reset();
      }
    });
    win.addEventListener('keyup', (ev) => {
      this.held.delete(ev.code);
    });
    // Keys released while the window had no focus never send keyup: forget them all.
    win.addEventListener('blur', () => this.held.clear());
    o.surface.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      if (ev.deltaY !== 0) o.camera.zoomBy(ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP);
    }, { passive: false });
    o.surface.addEventListener('pointerdown', (ev) => {
      this.drag = { x: ev.clientX, y: ev.clientY };
      o.surface.setPointerCapture?.(ev.pointerId);
      const active = o.surface.ownerDocument.activeElement as HTMLElement | null;
      active?.blur?.();
    });
    o.surface.addEventListener('pointermove', (ev) => {
      if (!this.drag) return;
      const k = this.o.pixelsPerUnit();
      if (k > 0) o.camera.moveBy((this.drag.x - ev.clientX) / k, (this.drag.y - ev.clientY) / k);
      this.drag = { x: ev.clientX, y: ev.clientY };
    });
    const end = (): void => {
      this.drag = null;
    };
    o.surface.addEventListener('pointerup', end);
    o.surface.addEventListener('pointercancel', end);
  }

  /** Pans the camera for the time since the last frame, along the keys held. */
  frame(dtMs: number): void {
    if (this.o.keysBlocked()) this.held.clear();
    const d = keysToDirection(this.held);
    if (d[0] !== 0 || d[1] !== 0) this.o.camera.pan(d, dtMs);
  }
}
