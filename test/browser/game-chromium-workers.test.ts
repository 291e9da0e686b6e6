/**
 * The demo game in Chromium against a server whose QUIC endpoint runs on a worker thread
 * (`webTransport.workers: 1`): two players join over WebTransport, see each other move and
 * chat; then the worker dies (an injected uncaught exception): the pages get a stateless reset
 * from the worker started in its place, reconnect (over WebTransport, or over WebSocket when
 * they tried before the new worker was up) and resume as the same players, and play on.
 */
import { describe, expect, it } from 'vitest';
import { WebTransportWorkers } from '../../server/transports/wt-worker/worker-pool.js';
import { launchChromium, openChromiumPlayer } from './game-drivers.js';
import { CHROMIUM_PATH, browserPresent, chatAcross, moveAndWatch, useDemoGame, waitFor, waitJoined, type GamePage } from './game-harness.js';

const present = browserPresent(CHROMIUM_PATH);

describe.skipIf(!present)('demo game in Chromium, QUIC endpoint on a worker thread', () => {
  const fx = useDemoGame(launchChromium, { wtWorkers: 1 });
  let alice: GamePage;
  let bob: GamePage;

  it('two players over WebTransport through the worker see each other move and chat', async () => {
    const wt = fx.server.webTransport();
    expect(wt?.stats().workers).toMatchObject({ workers: 1, running: 1 });
    alice = await openChromiumPlayer(fx, 'Alice');
    bob = await openChromiumPlayer(fx, 'Bob');
    await waitJoined(alice, 2);
    await waitJoined(bob, 2);
    for (const p of [alice, bob]) expect((await p.tw())!.transport).toBe('webtransport');
    expect(wt!.sessionCount).toBe(2);
    expect(await moveAndWatch(alice, bob, 'ArrowRight')).toBeGreaterThanOrEqual(20);
    expect(await moveAndWatch(bob, alice, 'KeyS')).toBeGreaterThanOrEqual(20);
    await chatAcross(alice, bob, 'Alice', 'hello through the worker');
  }, 90_000);

  it('a worker crash: the pages reconnect to the restarted worker and resume as the same players', async () => {
    const wt = fx.server.webTransport() as WebTransportWorkers;
    const before = await Promise.all([alice.tw(), bob.tw()]);
    wt.injectFault(0, { kind: 'throw', message: 'test: the worker fails' });
    await waitFor('the worker to be restarted', () => wt.stats().workers!.restarts === 1 && wt.stats().workers!.running === 1, 10_000);
    expect(wt.stats().workers).toMatchObject({ crashes: 1, sessionsLostToCrashes: 2 });
    const transports: string[] = [];
    for (const [i, p] of [alice, bob].entries()) {
      const after = await waitFor(`${p.label} to be back`, async () => {
        const t = await p.tw();
        return t?.connected && t.reconnects > before[i]!.reconnects ? t : null;
      }, 30_000);
      // Over WebTransport when the page reconnected once the new worker had bound the port. A
      // page that tried sooner (starting a worker takes seconds on a busy machine) found nothing
      // listening and took the client's own fallback, WebSocket: still the same player.
      expect(['webtransport', 'websocket']).toContain(after.transport);
      transports.push(after.transport!);
      expect(after.ownEntityId).toBe(before[i]!.ownEntityId);
    }
    // The restarted worker's stateless resets told the browsers at once (same key, same port).
    if (transports.every((t) => t === 'webtransport')) {
      await waitFor('the restarted worker to report its resets', () => wt.stats().endpoint.statelessResetsSent >= 1, 5_000);
    }
    expect(await moveAndWatch(alice, bob, 'ArrowLeft')).toBeGreaterThanOrEqual(20);
    await chatAcross(bob, alice, 'Bob', 'back after the crash');
  }, 90_000);
});
