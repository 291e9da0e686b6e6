/**
 * Entry point of the watch page (watch.html): the match in a room as a spectator, with a free
 * camera and the room's chat, read-only. The lobby's Watch leads here. Query parameters:
 * - `room=…`     the room to watch (the server's default otherwise; it must be open)
 * - `name=…`     the name on the spectator ticket (the players never see it; default: the one
 *                remembered from the game page, else a made-up one)
 * - `transport=auto|webtransport|websocket`, `server=http://host:port`, `renderer=webgl|webgpu|canvas`
 *   as on the game page (main.ts)
 */
import { GameApp } from './app.js';
import { cleanName, makeUpName } from './game/names.js';
import { mintDevTicket } from './net/dev-ticket.js';
import { GameClient } from './net/game-client.js';
import { rememberedName, rendererParam, transportParam } from './page-params.js';
import { showStartFailure } from './ui/hud.js';

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const name = cleanName(params.get('name') ?? '') || cleanName(rememberedName()) || makeUpName();
  const baseUrl = params.get('server') ?? location.origin;
  const room = params.get('room') ?? undefined;
  const roomLabel = document.getElementById('watch-room');
  if (roomLabel) roomLabel.textContent = room ?? '';
  const lobby = document.getElementById('watch-lobby') as HTMLAnchorElement | null;
  if (lobby && params.has('server')) lobby.search = `?server=${encodeURIComponent(baseUrl)}`;
  const client = new GameClient({
    baseUrl,
    ticket: () => mintDevTicket(globalThis.fetch.bind(globalThis), baseUrl, name, room, { spectate: true }),
    transport: transportParam(params),
  });
  client.on('welcome', (w) => {
    if (roomLabel) roomLabel.textContent = w.roomId;
  });
  const app = new GameApp({ client, doc: document, stage: document.getElementById('stage') as HTMLElement, name, renderer: rendererParam(params), spectator: true });
  await app.start(window as Window & { tickwire?: unknown });
}

main().catch((e: unknown) => {
  showStartFailure(document, e);
  console.error(e);
});
