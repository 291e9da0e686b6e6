/**
 * A Server-Sent Events client for Node (Node 20 has no EventSource): the event-stream parser of
 * WHATWG HTML §9.2.6 "Interpreting an event stream", and one GET over node:http that feeds it.
 * No automatic reconnect: the caller reconnects with the `lastEventId` it got, which is what the
 * tests and the benchmark want to control. `pause()` stops reading the socket (a consumer that
 * stops reading, for the slow-consumer test).
 */
import { request, type IncomingMessage } from 'node:http';

export interface SseMessage {
  /** `event:` field, "message" when none. */
  event: string;
  data: string;
  /** The last event id as of this event (the spec's "last event ID string"). */
  lastEventId: string;
}

/** Incremental parser: feed it decoded text in any chunking, get dispatched events. */
export class SseParser {
  /** Newest `retry:` value (ms), null when none came. */
  retryMs: number | null = null;
  /** Comment lines seen (heartbeats). */
  comments = 0;
  lastEventId = '';
  private buffer = '';
  private data = '';
  private dataSeen = false;
  private eventType = '';
  private idBuffer = '';
  private pendingCr = false;

  feed(text: string): SseMessage[] {
    const out: SseMessage[] = [];
    let s = text;
    // A CR at the end of the previous chunk already ended its line; a LF right after belongs to it.
    if (this.pendingCr && s.startsWith('\n')) s = s.slice(1);
    this.pendingCr = false;
    this.buffer += s;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.lastEventId = this.idBuffer;
      if (this.dataSeen) {
        out.push({ event: this.eventType || 'message', data: this.data, lastEventId: this.lastEventId });
      }
      this.data = '';
      this.dataSeen = false;
      this.eventType = '';
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event': this.eventType = value; break;
      case 'data':
        this.data = this.dataSeen ? `${this.data}\n${value}` : value;
        this.dataSeen = true;
        break;
      case 'id': if (!value.includes('\0')) this.idBuffer = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retryMs = Number(value); break;
      default: break;
    }
  }
}

export interface SseConnectOptions {
  /** Sent as the Last-Event-ID header (as a reconnecting EventSource does). */
  lastEventId?: string;
  headers?: Record<string, string>;
  onEvent?: (message: SseMessage) => void;
}

/** One open (or refused) event stream. */
export class SseConnection {
  /** Every event received, in order. */
  readonly events: SseMessage[] = [];
  readonly parser = new SseParser();
  status = 0;
  headers: IncomingMessage['headers'] = {};
  /** The body of a refused (non-200) answer. */
  body = '';
  ended = false;
  /** Why the request failed (no answer), if it did. */
  error: Error | null = null;
  /** Bytes of the body received. */
  bytes = 0;
  private res: IncomingMessage | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly req: ReturnType<typeof request>;
  /** Resolves once the response head arrived (or the request failed). */
  readonly opened: Promise<void>;

  constructor(url: string, private readonly options: SseConnectOptions = {}) {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    this.req = request(url, { headers, agent: false });
    this.opened = new Promise((resolve) => {
      this.req.on('response', (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.onData(chunk));
        res.on('end', () => this.finish());
        res.on('close', () => this.finish());
        res.on('error', () => this.finish());
        resolve();
      });
      this.req.on('error', (e) => {
        this.error ??= e;
        this.finish();
        resolve();
      });
    });
    this.req.end();
  }

  /** The last event id the stream set (what a reconnect sends as Last-Event-ID). */
  get lastEventId(): string {
    return this.parser.lastEventId;
  }

  /** Events named `name`. */
  named(name: string): SseMessage[] {
    return this.events.filter((e) => e.event === name);
  }

  /** Stops reading the socket: data piles up in the kernel and then at the server. */
  pause(): void {
    this.res?.pause();
  }

  resume(): void {
    this.res?.resume();
  }

  close(): void {
    this.req.destroy();
    this.finish();
  }

  /** Resolves when `probe()` is true; rejects after `timeoutMs` naming `what`. */
  until(probe: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (probe()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!probe()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.events.length} events, status ${this.status}, ended ${this.ended}${this.error ? `, ${this.error.message}` : ''})`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private onData(chunk: string): void {
    this.bytes += Buffer.byteLength(chunk);
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    for (const m of this.parser.feed(chunk)) {
      this.events.push(m);
      this.options.onEvent?.(m);
    }
    this.wake();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
