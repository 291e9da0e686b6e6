/**
 * The lobby page (lobby.html): the rooms open on the server with live player and spectator
 * counts (the rooms SSE stream), Play and Watch for each, and the chat of the selected room
 * followed read-only (the room's chat SSE stream). Query parameters: `room=…` (the room whose
 * chat to follow; default the first listed), `server=http://host:port` (default: this origin).
 * `window.tickwireLobby` publishes what the page holds, for tests.
 */
import { ChatFollower, RoomsFollower, browserFeedEnv, type FollowerState } from './feeds/event-feeds.js';
import { RoomsModel } from './feeds/rooms-model.js';
import { cleanName, makeUpName } from './game/names.js';
import { rememberedName } from './page-params.js';
import { LobbyView } from './ui/lobby-view.js';

const STATE_TEXT: Record<FollowerState, string> = {
  connecting: 'connecting…',
  open: '',
  reconnecting: 'reconnecting…',
  waiting: 'server unavailable, retrying…',
  'room-closed': 'this room is closed',
  stopped: '',
};

function main(): void {
  const params = new URLSearchParams(location.search);
  const baseUrl = params.get('server') ?? location.origin;
  const env = browserFeedEnv(baseUrl);
  const model = new RoomsModel();
  let selected: string | null = params.get('room');
  let chat: ChatFollower | null = null;

  const pageUrl = (page: string, q: Record<string, string>) => {
    const u = new URL(page, location.href);
    for (const [k, v] of Object.entries(q)) if (v) u.searchParams.set(k, v);
    if (params.has('server')) u.searchParams.set('server', baseUrl);
    return u.toString();
  };
  const view = new LobbyView(document, {
    play: (room, name) => pageUrl('./', { room, name: cleanName(name) || makeUpName() }),
    watch: (room) => pageUrl('./watch.html', { room }),
  }, (room) => follow(room));
  view.name = rememberedName();

  const render = () => {
    view.setStatus(STATE_TEXT[rooms.state]);
    view.renderRooms(model.list(), selected);
    view.renderChat(selected, chat?.lines ?? [], chat?.losses ?? [], chat ? STATE_TEXT[chat.state] : '');
  };
  const follow = (room: string) => {
    if (chat?.roomId === room) return;
    chat?.stop();
    selected = room;
    chat = new ChatFollower(env, room, render);
    chat.start();
    render();
  };
  const rooms = new RoomsFollower(env, (event, data) => {
    model.apply(event, data);
    if (selected === null && model.list().length > 0) follow(model.list()[0].id);
  }, render);
  rooms.start();
  if (selected !== null) follow(selected);

  const debug = {
    get rooms() { return model.list(); },
    get roomEvents() { return model.events; },
    get roomsState() { return rooms.state; },
    get roomsOpens() { return rooms.opens; },
    get chatRoom() { return chat?.roomId ?? null; },
    get chatState() { return chat?.state ?? null; },
    get chatIds() { return [...(chat?.ids ?? [])]; },
    get chatLines() { return (chat?.lines ?? []).map((l) => `${l.name}: ${l.text}`); },
    get chatLosses() { return [...(chat?.losses ?? [])]; },
    get chatOpens() { return chat?.opens ?? 0; },
    get chatErrors() { return chat?.errors ?? 0; },
    get chatLastId() { return chat?.lastId ?? null; },
    follow,
  };
  Object.defineProperty(window, 'tickwireLobby', { value: Object.freeze(debug) });
  render();
}

main();
