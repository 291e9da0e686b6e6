/**
 * The chat panel: the visible lines, the input box, and feedback when the server rate-limits us
 * (a notice with a countdown; the box is disabled until the server's retry-after has passed).
 */
import type { ChatLine } from '../game/chat-log.js';

/** Human text for the server's chatRejected reasons (server/chat). */
const REJECT_TEXT: Record<string, string> = {
  rate_limited: 'Slow down',
  flood: 'Too many lines',
  too_long: 'the line is too long',
  empty: 'the line is empty',
};

function rejectText(reason: string): string {
  return Object.hasOwn(REJECT_TEXT, reason) ? REJECT_TEXT[reason] : reason;
}

/** Shortest time a rate-limit refusal stays visible (a 50 ms flash would go unseen). */
const MIN_REFUSAL_NOTICE_MS = 1500;

/** Longest a plain notice ("not connected") stays up. */
const NOTICE_MS = 3000;

export class ChatPanel {
  private readonly list: HTMLOListElement;
  private readonly input: HTMLInputElement;
  private readonly form: HTMLFormElement;
  private readonly notice: HTMLElement;
  private blockedUntil = 0;
  private noticeUntil = 0;
  private noticeTimer: ReturnType<typeof setInterval> | null = null;
  private rendered = '';
  /** A spectator's panel: lines shown, the box disabled for good (readOnly()). */
  private readOnlyMode = false;

  /** @param send returns true when the line went out. */
  constructor(doc: Document, private readonly send: (text: string) => boolean, private readonly now: () => number) {
    this.list = doc.getElementById('chat-lines') as HTMLOListElement;
    this.input = doc.getElementById('chat-input') as HTMLInputElement;
    this.form = doc.getElementById('chat-form') as HTMLFormElement;
    this.notice = doc.getElementById('chat-notice') as HTMLElement;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.input.blur();
    });
    // Enter anywhere else opens the chat box (movement keys are ignored while it has focus).
    doc.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && doc.activeElement !== this.input && !this.input.disabled) {
        const target = ev.target as HTMLElement | null;
        if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
        ev.preventDefault();
        this.input.focus();
      }
    });
  }

  /** Shows the lines only: the box stays disabled, showing `placeholder` (a spectator cannot chat). */
  readOnly(placeholder: string): void {
    this.readOnlyMode = true;
    this.input.disabled = true;
    this.input.value = '';
    this.input.placeholder = placeholder;
  }

  /** Whether the chat box has the keyboard (movement keys must not steer then). */
  get typing(): boolean {
    return this.input.ownerDocument.activeElement === this.input;
  }

  /** Replaces the shown lines (cheap when nothing changed). */
  render(lines: readonly ChatLine[]): void {
    const key = lines.map((l) => l.id).join(',');
    if (key === this.rendered) return;
    this.rendered = key;
    const doc = this.list.ownerDocument;
    const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    this.list.replaceChildren(
      ...lines.map((l) => {
        const li = doc.createElement('li');
        li.dataset.chatId = String(l.id);
        if (l.own) li.className = 'own';
        const who = doc.createElement('span');
        who.className = 'who';
        who.textContent = l.name;
        li.append(who, doc.createTextNode(`: ${l.text}`));
        return li;
      }),
    );
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  /**
   * The server refused a line: say so. With a retry time (rate limit) the box is held and a
   * countdown shows until it may send again; otherwise (too long, empty) a plain notice.
   */
  rateLimited(retryAfterMs: number, reason: string): void {
    if (!(retryAfterMs > 0)) {
      this.say(`Not sent: ${rejectText(reason)}`);
      return;
    }
    this.blockedUntil = this.now() + retryAfterMs;
    // A refusal stays on screen long enough to be read even when the wait is short.
    const shownUntil = this.now() + Math.max(retryAfterMs, MIN_REFUSAL_NOTICE_MS);
    this.input.disabled = true;
    const what = rejectText(reason);
    this.showNotice(() => {
      const left = this.blockedUntil - this.now();
      if (left > 0) return `${what}: you can chat again in ${(left / 1000).toFixed(1)} s`;
      return this.now() < shownUntil ? `${what}: you can chat again` : null;
    });
  }

  /** A short plain notice. */
  say(text: string): void {
    this.noticeUntil = this.now() + NOTICE_MS;
    this.showNotice(() => (this.now() < this.noticeUntil ? text : null));
  }

  /** The notice text currently shown ('' when none). */
  get noticeText(): string {
    return this.notice.hidden ? '' : (this.notice.textContent ?? '');
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (text.length === 0) {
      this.input.blur();
      return;
    }
    if (this.now() < this.blockedUntil) return;
    if (this.send(text)) {
      this.input.value = '';
      // Back to the game: Enter opens the box, Enter sends and returns the keys to movement.
      this.input.blur();
    } else {
      this.say('Not sent: not connected, too many lines waiting, or the line is too long');
    }
  }

  private showNotice(textNow: () => string | null): void {
    if (this.noticeTimer !== null) clearInterval(this.noticeTimer);
    const tick = (): void => {
      const t = textNow();
      if (t === null) {
        this.notice.hidden = true;
        this.notice.textContent = '';
        if (this.noticeTimer !== null) clearInterval(this.noticeTimer);
        this.noticeTimer = null;
        if (this.now() >= this.blockedUntil && this.input.disabled && !this.readOnlyMode) {
          this.input.disabled = false;
        }
        return;
      }
      this.notice.hidden = false;
      this.notice.textContent = t;
      if (this.input.disabled && this.now() >= this.blockedUntil && !this.readOnlyMode) this.input.disabled = false;
    };
    tick();
    this.noticeTimer = setInterval(tick, 100);
  }
}
