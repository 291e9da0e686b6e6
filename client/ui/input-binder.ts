/**
 * Keyboard and pointer listeners. Keys held (WASD, arrows) steer directly; a click or touch
 * sets a target point the player walks to (dragging moves it). Pressing a movement key cancels
 * the target. While the chat box has focus, keys belong to it.
 */
import { isMovementKey, keysToDirection, steerToward } from '../game/controls.js';

export interface InputBinderOptions {
  /** Element receiving pointer input (the arena's host). */
  surface: HTMLElement;
  /** Maps a client point to world coordinates (null outside the arena). */
  toWorld: (clientX: number, clientY: number) => { x: number; y: number } | null;
  /** True while keys must be left alone (typing in chat). */
  keysBlocked: () => boolean;
}

export class InputBinder {
  private readonly held = new Set<string>();
  private target: { x: number; y: number } | null = null;
  private dragging = false;

  constructor(private readonly o: InputBinderOptions) {
    const win = o.surface.ownerDocument.defaultView;
    if (!win) throw new Error('surface is not in a window');
    win.addEventListener('keydown', (ev) => {
      if (this.o.keysBlocked() || !isMovementKey(ev.code)) return;
      ev.preventDefault();
      this.held.add(ev.code);
      this.target = null;
    });
    win.addEventListener('keyup', (ev) => {
      this.held.delete(ev.code);
    });
    // Keys released while the window had no focus never send keyup: forget them all.
    win.addEventListener('blur', () => this.held.clear());
    o.surface.addEventListener('pointerdown', (ev) => {
      const p = this.o.toWorld(ev.clientX, ev.clientY);
      if (!p) return;
      this.target = p;
      this.dragging = true;
      o.surface.setPointerCapture?.(ev.pointerId);
      // Take the keyboard back from the chat box.
      const active = o.surface.ownerDocument.activeElement as HTMLElement | null;
      active?.blur?.();
    });
    o.surface.addEventListener('pointermove', (ev) => {
      if (!this.dragging) return;
      const p = this.o.toWorld(ev.clientX, ev.clientY);
      if (p) this.target = p;
    });
    const end = (): void => {
      this.dragging = false;
    };
    o.surface.addEventListener('pointerup', end);
    o.surface.addEventListener('pointercancel', end);
  }

  /** The direction to send now, given where the own player is drawn. */
  direction(own: { x: number; y: number } | null): [number, number] {
    if (this.o.keysBlocked()) this.held.clear();
    const keys = keysToDirection(this.held);
    if (keys[0] !== 0 || keys[1] !== 0) return keys;
    if (this.target && own) {
      const d = steerToward(own, this.target);
      if (d) return d;
      this.target = null;
    }
    return [0, 0];
  }

  /** The pointer target the player is walking to, if any. */
  get pointerTarget(): { x: number; y: number } | null {
    return this.target;
  }
}
