/**
 * The lobby page's DOM: the room table (players, spectators, Play and Watch), the play form and
 * the followed room's chat. Rendering only; the data comes from client/feeds.
 */
import type { RoomSummary } from '../../shared/room-summary.js';
import type { FollowedLine, FollowedLoss } from '../feeds/event-feeds.js';

export interface LobbyLinks {
  /** Where Play takes a player (the game page). */
  play(roomId: string, name: string): string;
  /** Where Watch takes a spectator (the watch page). */
  watch(roomId: string): string;
}

export class LobbyView {
  private readonly body: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly status: HTMLElement;
  private readonly followRoom: HTMLElement;
  private readonly followLines: HTMLOListElement;
  private readonly followStatus: HTMLElement;
  private readonly nameInput: HTMLInputElement;
  private readonly roomInput: HTMLInputElement;
  private renderedLines = '';

  constructor(private readonly doc: Document, private readonly links: LobbyLinks, private readonly onSelect: (roomId: string) => void) {
    const byId = <T extends HTMLElement>(id: string) => doc.getElementById(id) as T;
    this.body = byId('rooms-body');
    this.empty = byId('rooms-empty');
    this.status = byId('lobby-status');
    this.followRoom = byId('follow-room');
    this.followLines = byId<HTMLOListElement>('follow-lines');
    this.followStatus = byId('follow-status');
    this.nameInput = byId<HTMLInputElement>('play-name');
    this.roomInput = byId<HTMLInputElement>('play-room');
    byId<HTMLFormElement>('play-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const room = this.roomInput.value.trim();
      if (!this.roomInput.checkValidity() || room === '') return;
      doc.defaultView?.location.assign(this.links.play(room, this.name));
    });
  }

  get name(): string {
    return this.nameInput.value;
  }

  set name(v: string) {
    this.nameInput.value = v;
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  renderRooms(rooms: readonly RoomSummary[], selected: string | null): void {
    const doc = this.doc;
    this.empty.hidden = rooms.length > 0;
    this.body.replaceChildren(...rooms.map((r) => {
      const tr = doc.createElement('tr');
      tr.dataset.room = r.id;
      if (r.id === selected) tr.className = 'selected';
      const cell = (text: string) => {
        const td = doc.createElement('td');
        td.textContent = text;
        return td;
      };
      const actions = doc.createElement('td');
      actions.className = 'actions';
      const play = doc.createElement('a');
      play.className = 'button play';
      play.textContent = 'Play';
      play.href = this.links.play(r.id, this.name);
      // The name typed may change after rendering: build the link when it is used.
      play.addEventListener('click', () => { play.href = this.links.play(r.id, this.name); });
      const watch = doc.createElement('a');
      watch.className = 'button watch';
      watch.textContent = 'Watch';
      watch.href = this.links.watch(r.id);
      actions.append(play, watch);
      tr.append(cell(r.id), cell(`${r.players} / ${r.maxPlayers}`), cell(String(r.spectators)), actions);
      tr.addEventListener('click', (ev) => {
        if ((ev.target as HTMLElement).closest('a')) return;
        this.onSelect(r.id);
      });
      return tr;
    }));
  }

  renderChat(roomId: string | null, lines: readonly FollowedLine[], losses: readonly FollowedLoss[], status: string): void {
    this.followRoom.textContent = roomId ?? '–';
    this.followStatus.textContent = status;
    const key = `${roomId}|${losses.length}|${lines.length}|${lines.at(-1)?.id ?? ''}`;
    if (key === this.renderedLines) return;
    this.renderedLines = key;
    const doc = this.doc;
    const items: HTMLLIElement[] = [];
    if (losses.length > 0) {
      const li = doc.createElement('li');
      li.className = 'lost';
      li.textContent = `(some earlier lines are no longer available)`;
      items.push(li);
    }
    for (const l of lines.slice(-200)) {
      const li = doc.createElement('li');
      li.dataset.chatId = String(l.id);
      const who = doc.createElement('span');
      who.className = 'who';
      who.textContent = l.name;
      li.append(who, doc.createTextNode(`: ${l.text}`));
      items.push(li);
    }
    this.followLines.replaceChildren(...items);
    this.followLines.scrollTop = this.followLines.scrollHeight;
  }
}
