/**
 * The bot fleet: N headless players in one process. Every tool that plays the game uses it:
 * `npm run bots` (bot-run.ts), the experiment's bots process (experiments/bots-entry.ts) and the
 * benchmark's observer and load processes (bench/standard-scene/). A bot is either a full
 * GameClient (client/net, the code the browser runs, every snapshot decoded) or a LightClient
 * (same transports and messages, snapshots acked without decoding; light-client.ts).
 *
 * The fleet owns what those tools used to write each for themselves: minting dev tickets,
 * building clients with Node's WebSocket and WebTransport injected, steering, chat timing,
 * joining (with bounded concurrency, retries and a deadline), byte totals, counting errors and
 * closing. What a tool measures stays with the tool: it subscribes to each full client's events
 * through `onClient`.
 */
import WebSocket from 'ws';
import { GameClient } from '../../client/net/game-client.js';
import type { FetchLike, WebSocketConstructor, WebTransportConstructor } from '../../client/net/transport-types.js';
import { epochNow, withTimeout } from '../lib/clock.js';
import { ErrorLog } from '../lib/error-log.js';
import { mintDevTicket } from '../../client/net/dev-ticket.js';
import { LightClient, STANDARD_INPUT_HZ } from './light-client.js';

export type FleetTransport = 'websocket' | 'webtransport' | 'auto';

/** How bots steer. */
export type Steering =
  /** A random heading (unit vector), changed after a random delay in [lo, hi] ms: a player walking about. */
  | { kind: 'wander'; turnEveryMs: readonly [number, number] }
  /**
   * A fresh direction with every input sent, each component uniform in [-1, 1]: the standard
   * scene's load (DESIGN.md), as the Colyseus peer's clients do. The only steering light bots have.
   */
  | { kind: 'every-input' };

export const DEFAULT_STEERING: Steering = { kind: 'wander', turnEveryMs: [500, 2500] };

/** Error messages a fleet keeps by default (all are counted). */
export const DEFAULT_ERROR_LIMIT = 5;

export interface FleetOptions {
  /** HTTP origin of the server (started with dev tickets). */
  url: string;
  transport: FleetTransport;
  count: number;
  /** 'full' GameClients (default) or 'light' LightClients ('auto' transport not supported). */
  kind?: 'full' | 'light';
  /** Name of bot `index` (0-based); default `bot1`, `bot2`, ... */
  name?: (index: number) => string;
  /** Room to join (the dev ticket endpoint's default when absent). */
  room?: string;
  steering?: Steering;
  /** Draws steering and chat timing: seed it for a fleet that repeats (default Math.random). */
  random?: () => number;
  /** Inputs per second (default STANDARD_INPUT_HZ). */
  inputHz?: number;
  /** Default `ws` (Node 20 has no global WebSocket). */
  WebSocket?: WebSocketConstructor;
  /** Needed for 'webtransport' and 'auto': server/h3's NodeWebTransport (node-webtransport.ts). */
  WebTransport?: WebTransportConstructor;
  fetch?: FetchLike;
  /** Called for every full client created, before it connects: subscribe to its events here. */
  onClient?: (bot: FleetBot, client: GameClient) => void;
  /** Error messages kept (default DEFAULT_ERROR_LIMIT). */
  errorLimit?: number;
  /** Progress lines (welcomes, errors); default silent. */
  log?: (line: string) => void;
}

export interface JoinOptions {
  /** The whole join gives up after this long (bots not in by then stay out). */
  timeoutMs: number;
  /** Joins in flight at once (default: all): a burst of 500 handshakes only measures the accept queue. */
  concurrency?: number;
  /** Attempts per bot, each with a fresh client (default 1). */
  attempts?: number;
  /** Progress: a line every `every` joins (default none). */
  progress?: { every: number; log: (line: string) => void };
}

export interface JoinResult {
  /** Bots that got their welcome. */
  joined: number;
  failedAttempts: number;
  elapsedMs: number;
}

/** Byte and reconnect counters, summed over bots. */
export interface FleetTotals {
  /** Application message bytes received / sent (both channels). */
  down: number;
  up: number;
  reconnects: number;
}

/** One bot of the fleet. */
export class FleetBot {
  /** The full client (null for a light bot). Replaced when a join attempt is retried. */
  client: GameClient | null = null;
  light: LightClient | null = null;
  welcomed = false;
  entityId: number | null = null;
  /** Transport the welcome came over ('none' before). */
  transport = 'none';
  /** The pending steering and chat timers (one each: a turn or a line schedules the next). */
  steerTimer: ReturnType<typeof setTimeout> | null = null;
  chatTimer: ReturnType<typeof setTimeout> | null = null;
  /** Chat lines this bot has sent. */
  chatLines = 0;
  /** Closed by the fleet: its client's close is not an error. */
  closed = false;

  constructor(readonly index: number, readonly name: string) {}

  get connected(): boolean {
    return this.client ? this.client.connected : !!this.light?.connected;
  }

  totals(): FleetTotals {
    if (this.client) {
      const s = this.client.stats();
      return { down: s.bytesDown.reliable + s.bytesDown.unreliable, up: s.bytesUp.reliable + s.bytesUp.unreliable, reconnects: s.reconnects };
    }
    return { down: this.light?.bytesDown ?? 0, up: this.light?.bytesUp ?? 0, reconnects: 0 };
  }

  connect(): Promise<unknown> {
    return this.client ? this.client.connect() : this.light!.connect();
  }

  close(reason: string): void {
    this.closed = true;
    if (this.steerTimer) clearTimeout(this.steerTimer);
    if (this.chatTimer) clearTimeout(this.chatTimer);
    this.steerTimer = null;
    this.chatTimer = null;
    if (this.client) this.client.close(reason);
    else this.light?.close();
  }
}

export class BotFleet {
  readonly bots: FleetBot[] = [];
  readonly errors: ErrorLog;
  private readonly random: () => number;
  private readonly fetchImpl: FetchLike;
  private closing = false;
  private chatting = false;

  constructor(private readonly o: FleetOptions) {
    if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError('count must be a positive integer');
    if (o.kind === 'light' && (o.transport === 'auto' || (o.steering && o.steering.kind !== 'every-input'))) {
      throw new RangeError('light bots need a fixed transport and every-input steering');
    }
    this.random = o.random ?? Math.random;
    this.fetchImpl = o.fetch ?? (globalThis.fetch.bind(globalThis) as FetchLike);
    const log = o.log;
    this.errors = new ErrorLog(o.errorLimit ?? DEFAULT_ERROR_LIMIT, log ? (m) => log(`error: ${m}`) : undefined);
    for (let i = 0; i < o.count; i++) {
      const bot = new FleetBot(i, o.name ? o.name(i) : `bot${i + 1}`);
      this.bots.push(bot);
      this.createPlayer(bot);
    }
  }

  /** A uniform draw in [lo, hi) from the fleet's random. */
  between([lo, hi]: readonly [number, number]): number {
    return lo + this.random() * (hi - lo);
  }

  /** Draw from the fleet's random (seeded fleets share one sequence). */
  draw(): number {
    return this.random();
  }

  /** Bots that got their welcome. */
  get welcomed(): number {
    return this.bots.filter((b) => b.welcomed).length;
  }

  /** Bots connected now. */
  get connected(): number {
    return this.bots.filter((b) => b.connected).length;
  }

  /**
   * Joins every bot: at most `concurrency` at once, each up to `attempts` times (a fresh client
   * per attempt), all within `timeoutMs`. Never throws for a bot's failure: it counts it.
   */
  async join(j: JoinOptions): Promise<JoinResult> {
    const t0 = epochNow();
    const deadline = t0 + j.timeoutMs;
    const attempts = j.attempts ?? 1;
    let next = 0;
    let failedAttempts = 0;
    let joined = 0;
    const worker = async () => {
      while (next < this.bots.length && epochNow() < deadline) {
        const bot = this.bots[next++];
        for (let attempt = 1; attempt <= attempts && epochNow() < deadline; attempt++) {
          if (attempt > 1) {
            bot.close('join retried');
            this.createPlayer(bot);
          }
          try {
            await withTimeout(bot.connect(), Math.max(0, deadline - epochNow()), 'join');
            if (bot.light) {
              bot.welcomed = true;
              bot.transport = this.o.transport;
            }
            joined++;
            if (j.progress && joined % j.progress.every === 0) {
              j.progress.log(`${joined}/${this.bots.length} joined, ${this.connected} still connected, ${failedAttempts} failed attempts, ${Math.round(epochNow() - t0)} ms`);
            }
            break;
          } catch (err) {
            failedAttempts++;
            this.errors.note(`${bot.name}: connect attempt ${attempt} failed: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
    };
    const workers = Math.max(1, Math.min(j.concurrency ?? this.bots.length, this.bots.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return { joined: this.welcomed, failedAttempts, elapsedMs: epochNow() - t0 };
  }

  /**
   * Chat: every bot, when connected, sends `line(bot, n)` (n = its lines so far + 1; null skips
   * the turn) first after `firstMs()` and then every `everyMs` (drawn from the fleet's random).
   */
  startChat(c: { firstMs: () => number; everyMs: readonly [number, number]; line: (bot: FleetBot, n: number) => string | null }): void {
    this.chatting = true;
    for (const bot of this.bots) {
      const talk = () => {
        if (!this.chatting) return;
        const client = bot.client;
        if (client?.connected) {
          const text = c.line(bot, bot.chatLines + 1);
          if (text !== null) {
            bot.chatLines++;
            client.sendChat(text);
          }
        }
        bot.chatTimer = setTimeout(talk, this.between(c.everyMs));
      };
      bot.chatTimer = setTimeout(talk, c.firstMs());
    }
  }

  stopChat(): void {
    this.chatting = false;
  }

  totals(): FleetTotals {
    const t: FleetTotals = { down: 0, up: 0, reconnects: 0 };
    for (const b of this.bots) {
      const x = b.totals();
      t.down += x.down;
      t.up += x.up;
      t.reconnects += x.reconnects;
    }
    return t;
  }

  /** Every bot leaves; events after this are not counted as errors. */
  close(reason: string): void {
    this.closing = true;
    this.chatting = false;
    for (const b of this.bots) b.close(reason);
  }

  private createPlayer(bot: FleetBot): void {
    const o = this.o;
    bot.welcomed = false;
    bot.closed = false;
    if (o.kind === 'light') {
      bot.light = new LightClient({
        baseUrl: o.url,
        transport: o.transport as 'webtransport' | 'websocket',
        name: bot.name,
        WebTransport: o.WebTransport,
        WebSocket: o.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
        fetch: this.fetchImpl,
        inputHz: o.inputHz,
        random: this.random,
        onError: (m) => this.errors.note(`${bot.name}: ${m}`),
      });
      return;
    }
    const client = new GameClient({
      baseUrl: o.url,
      // GameClient asks again only when the server says the ticket expired; reconnects reuse it.
      ticket: () => mintDevTicket(this.fetchImpl, o.url, bot.name, o.room),
      transport: o.transport,
      WebSocket: o.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
      WebTransport: o.WebTransport,
      fetch: this.fetchImpl,
      now: epochNow,
      inputHz: o.inputHz ?? STANDARD_INPUT_HZ,
    });
    bot.client = client;
    client.on('welcome', (w) => {
      bot.entityId = w.entityId;
      bot.welcomed = true;
      bot.transport = w.transport;
      o.log?.(`${bot.name}: welcome over ${w.transport} (entity ${w.entityId}${w.resumed ? ', resumed' : ''})`);
    });
    client.on('error', (e) => this.errors.note(`${bot.name}: ${e.code ?? ''} ${e.message}`.trim()));
    client.on('close', (c) => {
      // A client the fleet closed (the end, or a join attempt retried) did not fail.
      if (!this.closing && !bot.closed && bot.client === client) this.errors.note(`${bot.name}: closed ${c.code} ${c.reason}`);
    });
    this.steer(bot, client);
    o.onClient?.(bot, client);
  }

  private steer(bot: FleetBot, client: GameClient): void {
    const steering = this.o.steering ?? DEFAULT_STEERING;
    if (steering.kind === 'every-input') {
      const turn = () => client.setInput(this.random() * 2 - 1, this.random() * 2 - 1);
      turn();
      // The 'input' event follows each sent input: pick the direction of the next one.
      client.on('input', turn);
      return;
    }
    const turn = () => {
      if (this.closing || bot.closed) return;
      const a = this.random() * 2 * Math.PI;
      client.setInput(Math.cos(a), Math.sin(a));
      bot.steerTimer = setTimeout(turn, this.between(steering.turnEveryMs));
    };
    turn();
  }
}

