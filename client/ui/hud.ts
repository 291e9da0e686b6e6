/**
 * The HUD panel: builds its rows from the one definition (HUD_LABELS, client/game/hud-model.ts)
 * into the page's #hud-rows container, then writes the numbers into them. Both pages (index.html,
 * watch.html) hold only the container.
 */
import { HUD_KEYS, HUD_LABELS, type HudText } from '../game/hud-model.js';

/** Id of the element the rows are built into. */
export const HUD_CONTAINER_ID = 'hud-rows';
/** Id of the connection status line under the numbers. */
export const HUD_STATUS_ID = 'hud-status';

/** Id of the element showing `key` (`hud-transport`, …; the browser tests read them). */
export function hudFieldId(key: keyof HudText): string {
  return `hud-${key}`;
}

/**
 * Fills `container` with one row per HUD field (`<div><span class="label">…</span> <span
 * id="hud-…">–</span></div>`, in HUD_KEYS order) and the status line; returns the elements the
 * view writes into. What the container held before is replaced.
 */
export function buildHudRows(doc: Document, container: HTMLElement): { fields: Record<keyof HudText, HTMLElement>; status: HTMLElement } {
  const fields = {} as Record<keyof HudText, HTMLElement>;
  const rows: HTMLElement[] = [];
  for (const key of HUD_KEYS) {
    const label = doc.createElement('span');
    label.className = 'label';
    label.textContent = HUD_LABELS[key];
    const value = doc.createElement('span');
    value.id = hudFieldId(key);
    value.textContent = '–';
    const row = doc.createElement('div');
    row.append(label, ' ', value);
    rows.push(row);
    fields[key] = value;
  }
  const status = doc.createElement('div');
  status.id = HUD_STATUS_ID;
  status.className = 'status';
  container.replaceChildren(...rows, status);
  return { fields, status };
}

/** Writes the HUD numbers into the rows it builds in the page's #hud-rows. */
export class HudView {
  private readonly fields: Record<keyof HudText, HTMLElement>;
  private readonly status: HTMLElement;
  private last: HudText | null = null;

  constructor(root: Document) {
    const container = root.getElementById(HUD_CONTAINER_ID);
    if (!container) throw new Error(`#${HUD_CONTAINER_ID} missing from the page`);
    const built = buildHudRows(root, container);
    this.fields = built.fields;
    this.status = built.status;
  }

  show(t: HudText): void {
    for (const k of HUD_KEYS) {
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

/**
 * Shows why a page failed to start on the HUD's status line (both pages' entry points): in the
 * rows the game built, or, when it failed before building them, in rows built now.
 */
export function showStartFailure(doc: Document, e: unknown): void {
  const text = `failed to start: ${e instanceof Error ? e.message : String(e)}`;
  const status = doc.getElementById(HUD_STATUS_ID);
  if (status) status.textContent = text;
  else if (doc.getElementById(HUD_CONTAINER_ID)) new HudView(doc).setStatus(text);
}
