/**
 * A raw protocol client over a real WebSocket for server tests: sends exact bytes (good or bad)
 * and records every decoded server message, so tests can assert on the wire outcome.
 */
import WebSocket from 'ws';
import { decodeMessage, encodeMessage } from '../../shared/codec.js';
import { PROTOCOL_VERSION, type MessageBodies, type MessageName } from '../../shared/messages.js';
import { messageSpecById } from '../../shared/messages.js';

export interface Received {
  name: string;
  body: unknown;
  at: number;
}

export class RawClient {
  readonly messages: Received[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data);
      const channel = messageSpecById(bytes[0] ?? 0)?.channel ?? 'reliable';
      const r = decodeMessage(bytes, { channel, direction: 's2c' });
      this.messages.push(r.ok ? { name: r.name, body: r.body, at: Date.now() } : { name: `invalid:${r.reason}`, body: r.detail, at: Date.now() });
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
    ws.on('error', () => {});
  }

  /**
   * `localAddress`: the client's source address (any 127.x.y.z works on Linux loopback, so one
   * test can play several addresses); `origin`: the Origin header to send (none by default).
   */
  static async connect(url: string, options: { localAddress?: string; origin?: string } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, options);
    ws.binaryType = 'nodebuffer';
    // Listen before 'open': what the server sends with its upgrade answer (a refusal at once)
    // is emitted right after 'open', before an awaiting caller would get to attach anything.
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send<K extends MessageName>(name: K, body: MessageBodies[K]): void {
    this.ws.send(encodeMessage(name, body));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  hello(ticket: string, extra: { resumeToken?: string; lastChatId?: number; v?: number } = {}): void {
    const { v, ...rest } = extra;
    this.send('hello', { v: v ?? PROTOCOL_VERSION, ticket, ...rest });
  }

  of<K extends MessageName>(name: K): MessageBodies[K][] {
    return this.messages.filter((m) => m.name === name).map((m) => m.body as MessageBodies[K]);
  }

  /** Waits until `pred` holds (checked on every message and close), bounded by `timeoutMs`. */
  async until(pred: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.messages.map((m) => m.name).join(',')} close=${this.closeCode}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async welcome(ticket: string, extra?: { resumeToken?: string; lastChatId?: number }): Promise<MessageBodies['welcome']> {
    this.hello(ticket, extra);
    await this.until(() => this.of('welcome').length > 0 || this.closeCode !== null, 5_000, 'welcome');
    const w = this.of('welcome')[0];
    if (!w) throw new Error(`no welcome: closed ${this.closeCode} ${this.closeReason}`);
    return w;
  }

  async closed(timeoutMs = 5_000): Promise<number> {
    await this.until(() => this.closeCode !== null, timeoutMs, 'close');
    return this.closeCode!;
  }

  /** Count of snapshots received so far. */
  get snapshots(): number {
    return this.messages.filter((m) => m.name === 'snapshot').length;
  }

  close(): void {
    this.ws.close(4000, 'bye');
  }

  terminate(): void {
    this.ws.terminate();
  }
}
