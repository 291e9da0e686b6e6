/**
 * Spectators in Debian's Chromium (playwright-core) against the real server: Watch on the lobby
 * page opens the watch page in that room as a spectator; it sees the players move (a player in
 * another Chromium page steering with the keyboard, and a Node player) and their chat, moves its
 * free camera, and cannot chat; the players never see it (no entity, no join notice, their
 * counts unchanged) while the lobby lists it as watching. The watch page's HUD and the game
 * page's are the same rows, built from the one definition (HUD_LABELS), and both fill them in.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GameClient } from '../../client/net/game-client.js';
import type { PlayerInfo, SnapshotEvent } from '../../client/net/game-client-types.js';
import { mintDevTicket } from '../../client/net/dev-ticket.js';
import { HUD_KEYS, HUD_LABELS } from '../../client/game/hud-model.js';
import { hudFieldId } from '../../client/ui/hud.js';
import { launchChromium, openChromiumPage, VIEWPORT } from './game-drivers.js';
import {
  CHROMIUM_PATH, browserPresent, chatAcross, moveAndWatch, readTickwireInPage, resultPath, seenAt, torusDistance, useDemoGame,
  waitFor, waitJoined, type GamePage,
} from './game-harness.js';

const present = browserPresent(CHROMIUM_PATH);

/** The HUD rows a page shows: each row's label and the id of its value, in order. */
function hudRowsInPage(): Array<[string, string]> {
  return [...document.querySelectorAll('#hud-rows > div:not(.status)')].map((row) => [
    row.querySelector('.label')?.textContent ?? '', row.querySelector('span[id]')?.id ?? '',
  ]);
}

describe.skipIf(!present)('spectators in Chromium', () => {
  const fx = useDemoGame(launchChromium);

  it('Watch opens a spectator view that sees players move and chat; the players never see it', async () => {
    const base = fx.server.baseUrl;
    // A player in the browser, steering with the keyboard.
    const ada = await openChromiumPage(fx.browser, `${base}/?name=Ada&room=arena`, 'Ada');
    fx.closers.push(ada.close);
    await waitJoined(ada.game, 1, 30_000);
    // A Node player walking right all along, recording what it hears and sees.
    const bob = new GameClient({
      baseUrl: base,
      ticket: () => mintDevTicket(globalThis.fetch.bind(globalThis), base, 'Bob', 'arena'),
      transport: 'websocket',
      WebSocket,
    });
    fx.closers.push(async () => bob.close());
    const joinedSeenByBob: PlayerInfo[] = [];
    bob.on('playerJoined', (p) => joinedSeenByBob.push(p));
    let bobSnapshot: SnapshotEvent | null = null;
    bob.on('snapshot', (s) => { bobSnapshot = s; });
    const bobWelcome = await bob.connect();
    bob.setInput(1, 0);
    await waitJoined(ada.game, 2, 30_000);
    const adaId = (await ada.game.tw())!.ownEntityId!;

    // The lobby lists the room; Watch leads to the watch page in it.
    const context = await fx.browser.newContext({ viewport: VIEWPORT });
    fx.closers.push(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/lobby.html`);
    await page.click('#rooms-body tr[data-room="arena"] a.watch', { timeout: 20_000 });
    await page.waitForURL(/watch\.html\?/);
    expect(new URL(page.url()).searchParams.get('room')).toBe('arena');
    const watcher: GamePage = {
      ...ada.game,
      label: 'watcher',
      tw: () => page.evaluate(readTickwireInPage),
      press: (k) => page.keyboard.press(k),
      keyDown: (k) => page.keyboard.down(k),
      keyUp: (k) => page.keyboard.up(k),
    };
    const spectating = () => page.evaluate(() => {
      const t = (window as unknown as { tickwire?: { spectator: boolean; camera: { x: number; y: number; zoom: number } | null } }).tickwire;
      return t ? { spectator: t.spectator, camera: t.camera } : null;
    });
    // It draws both players, and no entity of its own.
    const seen = await waitFor('the watcher to see both players', async () => {
      const t = await watcher.tw();
      return t && t.connected && t.positions.length === 2 ? t : null;
    }, 30_000);
    expect(seen.ownEntityId).toBe(0);
    expect(seen.positions.some((p) => p.own)).toBe(false);
    expect(seen.positions.map((p) => p.name).sort()).toEqual(['Ada', 'Bob']);
    expect((await spectating())?.spectator).toBe(true);
    const room = fx.server.game.rooms.get('arena')!;
    expect([room.playerCount, room.spectatorCount]).toEqual([2, 1]);

    // Players move: Ada with the keyboard in her page, Bob by himself.
    await moveAndWatch(ada.game, watcher, 'ArrowDown', 30);
    const bob0 = await seenAt(watcher, bobWelcome.entityId);
    await waitFor('the watcher to see Bob walk', async () => {
      const now = await seenAt(watcher, bobWelcome.entityId);
      return bob0 && now && torusDistance(bob0, now) >= 30;
    });
    // Ada chats; the watcher shows the line. The watcher's chat box is read-only.
    await chatAcross(ada.game, watcher, 'Ada', 'hello whoever is watching');
    expect(await page.isDisabled('#chat-input')).toBe(true);
    expect(bob.sendChat('and from Bob')).toBe(true);
    await waitFor('the watcher to show Bob\'s line', async () => (await watcher.tw())?.chat.includes('Bob: and from Bob'));

    // The free camera: zoom in, pan right; the players stay drawn where they are in the world.
    const cam0 = (await spectating())!.camera!;
    expect(cam0.zoom).toBe(1);
    await page.mouse.move(550, 360);
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await waitFor('the camera to zoom', async () => ((await spectating())?.camera?.zoom ?? 1) > 1.5);
    await page.keyboard.down('KeyD');
    try {
      await waitFor('the camera to pan right', async () => ((await spectating())?.camera?.x ?? 0) > cam0.x + 50);
    } finally {
      await page.keyboard.up('KeyD');
    }
    const adaSeen = await seenAt(watcher, adaId);
    const adaOwn = await seenAt(ada.game, adaId);
    expect(adaSeen && adaOwn && torusDistance(adaSeen, adaOwn) < 60).toBe(true);
    await page.screenshot({ path: resultPath('spectator-watch.png') });

    // The players never saw the spectator: no join notice, no entity, their counts unchanged.
    expect(joinedSeenByBob).toEqual([]);
    expect(bobSnapshot!.entities.map((e) => e.id).sort()).toEqual([adaId, bobWelcome.entityId].sort());
    const adaView = (await ada.game.tw())!;
    expect(adaView.entities).toBe(2);
    expect(adaView.positions.map((p) => p.name).sort()).toEqual(['Ada', 'Bob']);
    // One HUD definition: both pages show the same rows, from HUD_LABELS, and fill every one.
    const rows = HUD_KEYS.map((k) => [HUD_LABELS[k], hudFieldId(k)]);
    expect(await page.evaluate(hudRowsInPage)).toEqual(rows);
    expect(await ada.page.evaluate(hudRowsInPage)).toEqual(rows);
    for (const [label, p] of [['watcher', page], ['Ada', ada.page]] as const) {
      await waitFor(`${label}'s HUD to show the transport and two players`, async () =>
        /^Web(Transport|Socket)$/.test((await p.textContent('#hud-transport')) ?? '') && (await p.textContent('#hud-players')) === '2');
    }
    expect(errors).toEqual([]);
  }, 120_000);
});
