/** Writes the HUD numbers into the page's #hud panel. */
import type { HudText } from '../game/hud-model.js';

export class HudView {
  private readonly fields: Record<keyof HudText, HTMLElement>;
  private readonly status: HTMLElement;
  private last: HudText | null = null;

  constructor(root: Document) {
    const el = (id: string): HTMLElement => {
      const e = root.getElementById(id);
      if (!e) throw new Error(`#${id} missing from the page`);
      return e;
    };
    this.fields = {
      transport: el('hud-transport'),
      rtt: el('hud-rtt'),
      rate: el('hud-rate'),
      loss: el('hud-loss'),
      down: el('hud-down'),
      interp: el('hud-interp'),
      players: el('hud-players'),
      node: el('hud-node'),
    };
    this.status = el('hud-status');
  }

  show(t: HudText): void {
    for (const k of Object.keys(this.fields) as Array<keyof HudText>) {
      if (this.last?.[k] !== t[k]) this.fields[k].textContent = t[k];
    }
    this.last = t;
  }

  /** One line of connection status under the numbers; empty hides it. */
  setStatus(text: string): void {
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  get text(): HudText | null {
    return this.last;
  }
}
