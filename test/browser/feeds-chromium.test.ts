/**
 * The read-only feeds in Debian's Chromium (playwright-core) against the real server: the lobby
 * page's EventSource on the room list shows live player counts; its EventSource on a room's chat
 * is cut (a TCP proxy between browser and server destroys the connection and refuses new ones
 * for a while) and comes back while chat goes on, and every line is shown exactly once, in
 * order; Play leads to the game page in that room.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, VIEWPORT } from './game-drivers.js';
import { CHROMIUM_PATH, browserPresent, resultPath, useDemoGame, waitFor } from './game-harness.js';
import { RawClient } from '../server/ws-test-client.js';
import { TcpCutProxy } from './tcp-cut-proxy.js';
import { gameServerInternals } from '../../server/internals.js';

const present = browserPresent(CHROMIUM_PATH);

interface LobbyView {
  rooms: Array<{ id: string; players: number; spectators: number }>;
  roomsState: string;
  roomsOpens: number;
  chatRoom: string | null;
  chatState: string | null;
  chatIds: number[];
  chatLines: string[];
  chatLosses: unknown[];
  chatOpens: number;
  chatErrors: number;
  chatLastId: number | null;
}

function readLobbyInPage(): LobbyView | null {
  const l = (window as unknown as { tickwireLobby?: Record<string, unknown> }).tickwireLobby;
  if (!l) return null;
  return {
    rooms: l.rooms, roomsState: l.roomsState, roomsOpens: l.roomsOpens, chatRoom: l.chatRoom, chatState: l.chatState,
    chatIds: l.chatIds, chatLines: l.chatLines, chatLosses: l.chatLosses, chatOpens: l.chatOpens, chatErrors: l.chatErrors,
    chatLastId: l.chatLastId,
  } as LobbyView;
}

describe.skipIf(!present)('lobby and chat feeds in Chromium', () => {
  // Dev tickets for served rooms only: the three rooms these tests play in.
  const fx = useDemoGame(launchChromium, { devRooms: ['arena', 'docks', 'harbour'] });

  /** A player over WebSocket with a dev ticket (the page's own way of joining is tested elsewhere). */
  async function player(name: string, room: string): Promise<RawClient> {
    const res = await fetch(`${fx.server.baseUrl}/api/dev/ticket`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, room }),
    });
    if (!res.ok) throw new Error(`dev ticket for ${room}: HTTP ${res.status} ${await res.text()}`);
    const { ticket } = (await res.json()) as { ticket: string };
    const c = await RawClient.connect(`${fx.server.baseUrl.replace('http', 'ws')}/ws`);
    fx.closers.push(async () => c.terminate());
    await c.welcome(ticket);
    return c;
  }

  async function openLobby(query: string, origin = fx.server.baseUrl): Promise<{ page: Page; lobby: () => Promise<LobbyView | null> }> {
    const context = await fx.browser.newContext({ viewport: VIEWPORT });
    fx.closers.push(() => context.close());
    const page = await context.newPage();
    await page.goto(`${origin}/lobby.html${query}`);
    return { page, lobby: () => page.evaluate(readLobbyInPage) };
  }

  const count = (v: LobbyView | null, room: string) => v?.rooms.find((r) => r.id === room)?.players;

  it('lists rooms with live player counts through the rooms stream', async () => {
    const alice = await player('Alice', 'arena');
    await player('Bob', 'arena');
    const { page, lobby } = await openLobby('');
    await waitFor('the lobby to list arena with 2 players', async () => count(await lobby(), 'arena') === 2);
    const carol = await player('Carol', 'arena');
    await player('Dan', 'docks');
    await waitFor('arena at 3 and docks at 1', async () => {
      const v = await lobby();
      return count(v, 'arena') === 3 && count(v, 'docks') === 1;
    });
    alice.send('leave', {});
    carol.send('leave', {});
    await waitFor('arena back at 1', async () => count(await lobby(), 'arena') === 1);
    // Live: all of it came over the one stream it opened.
    expect((await lobby())!.roomsOpens).toBe(1);
    await waitFor('the table to show the counts', async () => (await page.textContent('#rooms-body tr[data-room="docks"]'))?.includes('1 / '));
    await page.screenshot({ path: resultPath('feeds-lobby.png') });
  }, 60_000);

  it('follows a room chat; cut off and back while chat goes on, every line exactly once', async () => {
    await player('Erin', 'harbour');
    const room = gameServerInternals(fx.server.game).rooms.get('harbour')!;
    const proxy = await TcpCutProxy.start(Number(new URL(fx.server.baseUrl).port));
    fx.closers.push(() => proxy.close());
    const { lobby } = await openLobby('?room=harbour', `http://127.0.0.1:${proxy.port}`);
    await waitFor('the chat stream to open', async () => (await lobby())?.chatState === 'open');
    let posted = 0;
    const post = () => { room.chat.announce(`line ${++posted}`, Date.now()); };
    // Chat every 40 ms throughout.
    const ticker = setInterval(post, 40);
    try {
      await waitFor('some lines', async () => ((await lobby())?.chatIds.length ?? 0) >= 10);
      for (let cut = 0; cut < 2; cut++) {
        const before = (await lobby())!.chatErrors;
        proxy.block(true);
        proxy.cut();
        await waitFor('the page to notice the cut', async () => ((await lobby())?.chatErrors ?? 0) > before, 20_000);
        // Chat goes on while the page cannot reach the server (its reconnects are refused).
        await new Promise((r) => setTimeout(r, 1_500));
        proxy.block(false);
        const at = posted;
        await waitFor('the page to catch up past the cut', async () => ((await lobby())?.chatLastId ?? 0) >= at, 30_000);
      }
    } finally {
      clearInterval(ticker);
    }
    await waitFor('every line', async () => (await lobby())?.chatLastId === posted, 20_000);
    const v = (await lobby())!;
    expect(v.chatIds).toEqual(Array.from({ length: posted }, (_, i) => i + 1));
    expect(v.chatLosses).toEqual([]);
    expect(v.chatLines.at(-1)).toBe(`server: line ${posted}`);
    // The browser's own reconnects (with Last-Event-ID) did it: the page never opened a new stream.
    expect(v.chatOpens).toBe(1);
    expect(v.chatErrors).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('Play leads to the game page in that room, with the name typed', async () => {
    await player('Fay', 'arena');
    const { page, lobby } = await openLobby('');
    await waitFor('arena listed', async () => count(await lobby(), 'arena') !== undefined);
    await page.fill('#play-name', 'Gus');
    await page.click('#rooms-body tr[data-room="arena"] a.play');
    await page.waitForURL(/\/\?/);
    const url = new URL(page.url());
    expect(url.searchParams.get('room')).toBe('arena');
    expect(url.searchParams.get('name')).toBe('Gus');
    await waitFor('the game page to join', async () => page.evaluate(() => {
      const t = (window as unknown as { tickwire?: { connected: boolean } }).tickwire;
      return t?.connected === true;
    }), 30_000);
  }, 60_000);
});
