/**
 * The demo game in Debian's Chromium (playwright-core) against the real server: two players
 * over WebTransport see each other move and chat; the HUD and window.tickwire say WebTransport;
 * the canvas really draws; with window.WebTransport removed before the page's scripts run, a
 * page joins over WebSocket within 2 s and plays (keys, and touch taps); click and tap move the
 * player toward the point; a rate-limited chat line gets visible feedback. Screenshots go to test-results/.
 */
import { describe, expect, it } from 'vitest';
import { launchChromium, openChromiumPlayer } from './game-drivers.js';
import {
  CHROMIUM_PATH, browserPresent, canvasCheck, chatAcross, moveAndWatch, pointAndWatch, useDemoGame, waitFor, waitJoined,
  type GamePage,
} from './game-harness.js';

const present = browserPresent(CHROMIUM_PATH);

describe.skipIf(!present)('demo game in Chromium', () => {
  const fx = useDemoGame(launchChromium);
  let alice: GamePage;
  let bob: GamePage;
  const closersPages: { carol?: GamePage } = {};

  it('two players over WebTransport see each other move and chat', async () => {
    alice = await openChromiumPlayer(fx, 'Alice');
    bob = await openChromiumPlayer(fx, 'Bob');
    const ta = await waitJoined(alice, 2);
    const tb = await waitJoined(bob, 2);
    expect(ta.ownEntityId).not.toBe(tb.ownEntityId);

    // HUD and debug object agree on the transport.
    for (const p of [alice, bob]) {
      const t = (await p.tw())!;
      expect(t.transport).toBe('webtransport');
      expect(t.transportLabel).toBe('WebTransport');
      // The HUD refreshes a few times a second.
      await waitFor(`${p.label}'s HUD to say WebTransport`, async () => (await p.text('#hud-transport')) === 'WebTransport');
    }

    // Each sees the other move.
    expect(await moveAndWatch(alice, bob, 'ArrowRight')).toBeGreaterThanOrEqual(20);
    expect(await moveAndWatch(bob, alice, 'KeyS')).toBeGreaterThanOrEqual(20);

    // Click to walk: Bob sees Alice head for the point she clicked.
    await pointAndWatch(alice, bob, 'click');

    // A chat line typed in one appears in the other.
    await chatAcross(alice, bob, 'Alice', 'hello from alice');
    await chatAcross(bob, alice, 'Bob', 'hi alice, bob here');

    // The HUD shows live numbers.
    await waitFor('HUD to show snapshots and 2 players', async () => {
      const t = await bob.tw();
      return t?.hud?.players === '2' && t.hud.rate !== '0.0 /s' && t.hud.rtt !== '–';
    });
  }, 90_000);

  it('draws a canvas that is not blank', async () => {
    const stats = await canvasCheck(alice, 'game-chromium-alice');
    await canvasCheck(bob, 'game-chromium-bob');
    expect(stats.width).toBeGreaterThan(100);
    // A blank or single-colour canvas has variance ~0 and a handful of colours; the arena, its
    // grid, two players and their names give far more.
    expect(stats.variance).toBeGreaterThan(20);
    expect(stats.colours).toBeGreaterThan(50);
  }, 30_000);

  it('falls back to WebSocket within 2 s without window.WebTransport, and plays', async () => {
    const carol = await openChromiumPlayer(fx, 'Carol', { withoutWebTransport: true, touch: true });
    closersPages.carol = carol;
    const t = await waitJoined(carol, 3);
    expect(t.transport).toBe('websocket');
    await waitFor("Carol's HUD to say WebSocket", async () => (await carol.text('#hud-transport')) === 'WebSocket');
    expect(t.welcomeAt! - t.connectStartedAt!).toBeLessThan(2000);
    // It plays: the others see Carol move, and Carol sees Alice move.
    expect(await moveAndWatch(carol, alice, 'ArrowLeft')).toBeGreaterThanOrEqual(20);
    expect(await moveAndWatch(alice, carol, 'ArrowUp')).toBeGreaterThanOrEqual(20);
    // Touch: a tap sets the point to walk to, as a click does.
    await pointAndWatch(carol, bob, 'tap');
    await chatAcross(carol, bob, 'Carol', 'carol over websocket');
    await canvasCheck(carol, 'game-chromium-carol-websocket');
  }, 60_000);

  it('resumes after a network outage: same player, the chat it missed exactly once', async () => {
    const carol = closersPages.carol!;
    const before = (await carol.tw())!;
    await carol.offline!(true);
    try {
      // The page notices the silence (no snapshots, no pongs) and starts reconnecting.
      await waitFor('Carol to notice the outage', async () => (await carol.tw())?.state === 'reconnecting', 20_000);
      await chatAcross(bob, alice, 'Bob', 'said while carol was away');
    } finally {
      await carol.offline!(false);
    }
    const after = await waitFor('Carol to be back', async () => {
      const t = await carol.tw();
      return t?.connected && t.reconnects > before.reconnects ? t : null;
    }, 30_000);
    expect(after.ownEntityId).toBe(before.ownEntityId);
    const missed = await waitFor('the missed line to be replayed', async () => (await carol.tw())?.chat.filter((l) => l === 'Bob: said while carol was away'));
    expect(missed).toHaveLength(1);
    // Nothing shown twice.
    expect(new Set(after.chat).size).toBe(after.chat.length);
    await waitFor('HUD status to clear', async () => (await carol.tw())?.status === '');
    expect(await moveAndWatch(carol, bob, 'ArrowRight')).toBeGreaterThanOrEqual(20);
  }, 90_000);

  it('shows visible feedback when chat is rate-limited, then lets the player chat again', async () => {
    // Type faster than the server's chat rate limit allows (a burst of a few lines), and stop
    // as soon as the refusal shows, well before the server would call it a flood.
    for (let i = 0; i < 20; i++) {
      if ((await bob.tw())?.chatNotice) break;
      await bob.press('Enter');
      await bob.type(`line ${i}`);
      await bob.press('Enter');
    }
    const notice = await waitFor('a rate-limit notice', async () => (await bob.tw())?.chatNotice);
    expect(notice).toMatch(/^Slow down: you can chat again( in \d+\.\d s)?$/);
    // (tickwire.chatNotice is the text of the #chat-notice element on the page.)
    await waitFor('the notice to go once the retry time has passed', async () => (await bob.tw())?.chatNotice === '', 15_000);
    await chatAcross(bob, alice, 'Bob', 'calm again');
    expect((await bob.tw())!.connected).toBe(true);
  }, 60_000);

  it('tells the players when the server drains', async () => {
    const drained = fx.server.drain({ deadlineMs: 4000, reconnectJitterMs: 1500 });
    for (const p of [alice, bob, closersPages.carol!]) {
      const log = await waitFor(`${p.label} to show the drain notice`, async () => {
        const l = (await p.tw())?.statusLog ?? [];
        return l.some((x) => x.startsWith('server restarting: moving over in')) ? l : null;
      });
      expect(log.length).toBeGreaterThan(0);
    }
    await drained;
  }, 30_000);
});
