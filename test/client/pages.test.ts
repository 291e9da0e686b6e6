/**
 * The pages' static HTML (client/*.html) holds no HUD rows of its own: the game page and the
 * watch page each give only the container that client/ui/hud.ts fills from HUD_LABELS
 * (client/game/hud-model.ts), so the two HUDs cannot drift apart (the watch page once lacked a
 * row the game needed and threw). test/browser/spectator-chromium.test.ts checks the rows the
 * two pages show in a real browser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../tools/lib/child.js';
import { HUD_CONTAINER_ID, HUD_STATUS_ID, hudFieldId } from '../../client/ui/hud.js';
import { HUD_KEYS } from '../../client/game/hud-model.js';

const page = (name: string): string => readFileSync(join(REPO_ROOT, 'client', name), 'utf8');

describe.each(['index.html', 'watch.html'])('%s', (name) => {
  const html = page(name);

  it('holds the HUD container once and none of the rows the builder makes', () => {
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.filter((id) => id === HUD_CONTAINER_ID)).toHaveLength(1);
    for (const id of [...HUD_KEYS.map(hudFieldId), HUD_STATUS_ID]) expect(ids).not.toContain(id);
    expect(html).not.toMatch(/class="label"/);
  });

  it('puts the container inside the #hud panel', () => {
    const hud = html.indexOf('id="hud"');
    const container = html.indexOf(`id="${HUD_CONTAINER_ID}"`);
    expect(hud).toBeGreaterThan(0);
    expect(container).toBeGreaterThan(hud);
    expect(container).toBeLessThan(html.indexOf('id="chat"'));
  });
});
