/**
 * Entry point of the demo page. Query parameters:
 * - `name=…`     join at once with this name (otherwise a form asks, offering a made-up one)
 * - `room=…`     room to join (the server's default otherwise)
 * - `transport=auto|webtransport|websocket`  force a transport (default auto: WebTransport first)
 * - `server=http://host:port`  the game server's HTTP origin (default: where the page came from)
 * - `renderer=webgl|webgpu|canvas`  the Pixi renderer to try first (default: WebGL when
 *   hardware accelerated, else Canvas 2D)
 * - `preview`    run a local scene without any server (for working on the visuals)
 */
import { GameApp, type GameClientLike } from './app.js';
import { cleanName, makeUpName } from './game/names.js';
import { mintDevTicket } from './net/dev-ticket.js';
import { GameClient } from './net/game-client.js';
import { rememberName, rememberedName, rendererParam, transportParam } from './page-params.js';
import { LocalPreviewClient } from './preview/local-client.js';
import { showStartFailure } from './ui/hud.js';

function askName(doc: Document, suggested: string): Promise<string> {
  const form = doc.getElementById('join') as HTMLFormElement;
  const input = doc.getElementById('join-name') as HTMLInputElement;
  input.value = suggested;
  form.hidden = false;
  input.focus();
  input.select();
  return new Promise((resolve) => {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      form.hidden = true;
      resolve(cleanName(input.value) || makeUpName());
    }, { once: true });
  });
}

/** The demo mints its own join tickets (servers started with devTickets). */
function devTicketProvider(baseUrl: string, name: string, room: string | undefined): () => Promise<string> {
  return () => mintDevTicket(globalThis.fetch.bind(globalThis), baseUrl, name, room);
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const given = params.get('name');
  const name = given !== null ? cleanName(given) || makeUpName() : await askName(document, rememberedName() || makeUpName());
  rememberName(name);
  const baseUrl = params.get('server') ?? location.origin;
  const room = params.get('room') ?? undefined;
  const client: GameClientLike = params.has('preview')
    ? new LocalPreviewClient(name)
    : new GameClient({ baseUrl, ticket: devTicketProvider(baseUrl, name, room), transport: transportParam(params) });
  const app = new GameApp({ client, doc: document, stage: document.getElementById('stage') as HTMLElement, name, renderer: rendererParam(params) });
  await app.start(window as Window & { tickwire?: unknown });
}

main().catch((e: unknown) => {
  showStartFailure(document, e);
  console.error(e);
});
