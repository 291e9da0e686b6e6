/**
 * The cluster's only door to Redis: a small adapter over node-redis (`redis` 6.x) offering
 * exactly the commands the cluster uses (docs/cluster.md, "Redis client"):
 *
 *   EVALSHA / EVAL (every write and most reads are Lua scripts, so each is atomic),
 *   GET (lease lookups, checkpoints), XRANGE (chat history), SSUBSCRIBE / SUNSUBSCRIBE (chat
 *   fan-out on sharded pub/sub, Redis 7.0+).
 *
 * It fails fast when Redis is away, because a game server must never wait on it: no offline
 * queue (a command while disconnected rejects at once), every command times out after
 * `commandTimeoutMs` even when already sent, the in-flight queue is bounded, and reconnects
 * back off exponentially with jitter up to a cap. Callers see two error classes only:
 * `RedisUnavailableError` (Redis did not answer: retry later, the outcome of a write is
 * unknown) and `RedisReplyError` (Redis answered with an error: a bug or foreign data).
 */
import { createHash } from 'node:crypto';
import { createClient, createCluster, ErrorReply, RESP_TYPES } from 'redis';

/**
 * Longest a command may wait for its reply, sent or not. Lease renewals are scheduled so that a
 * renewal timing out still leaves time for a retry before the lease's local deadline.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** Longest one connection attempt (TCP + handshake) may take. */
export const REDIS_CONNECT_TIMEOUT_MS = 2_000;
/** First reconnect delay; doubles per failed attempt up to REDIS_RECONNECT_MAX_MS (with jitter). */
export const REDIS_RECONNECT_BASE_MS = 50;
/**
 * Longest pause between reconnect attempts. Attempts never stop (a cluster node has nothing
 * better to do than to find Redis again), but they never come faster than this once failing.
 */
export const REDIS_RECONNECT_MAX_MS = 2_000;
/** Commands waiting for a reply on one connection; beyond it a command rejects at once. */
export const REDIS_MAX_QUEUED_COMMANDS = 10_000;
/** `connectRedis` gives up (and the caller, e.g. listen(), fails) if Redis is not ready by then. */
export const REDIS_STARTUP_TIMEOUT_MS = 10_000;
/** While a connection is open but unanswered (a paused Redis, a partition), probe it this often. */
export const REDIS_PROBE_INTERVAL_MS = 500;

/** Redis did not answer: it is down, unreachable, paused, or too slow. Retry later. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** Redis answered with an error reply (wrong type, script error, ...). Not retryable. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

export function isRedisUnavailable(error: unknown): error is RedisUnavailableError {
  return error instanceof RedisUnavailableError;
}

/**
 * `ready`: the last command or connection attempt succeeded. `down`: the connection is gone or
 * the last command timed out (commands are still tried; they fail fast). `connecting`: before
 * the first connection. `closed`: after close().
 */
export type RedisState = 'connecting' | 'ready' | 'down' | 'closed';

/** A Lua script, sent by its SHA1 (EVALSHA) and by its text only when Redis lacks it. */
export class LuaScript {
  readonly sha: string;

  /**
   * @param name for errors and docs
   * @param keys how many KEYS it takes: all of them must share one hash tag (Redis Cluster)
   */
  constructor(readonly name: string, readonly keys: number, readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/** One stream entry as XRANGE returns it: id and flat field/value list. */
export type StreamEntry = [id: string, fields: string[]];

export type ScriptArg = string | number | Buffer;

/** What the cluster's blocks need from Redis; tests and phase-2 wiring see only this. */
export interface ClusterRedis {
  readonly state: RedisState;
  /** Counts (re)connections: work checked on an older connection may need checking again. */
  readonly connectionEpoch: number;
  /** Called on every state change; returns the unsubscribe function. */
  onStateChange(listener: (state: RedisState) => void): () => void;
  /** EVALSHA, falling back to EVAL when the script is not cached on the server. */
  run(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  /** GET returning raw bytes (binary values such as checkpoints). */
  getBuffer(key: string): Promise<Buffer | null>;
  /** XRANGE key start end COUNT count. */
  xrange(key: string, start: string, end: string, count: number): Promise<StreamEntry[]>;
  /**
   * SSUBSCRIBE on a second connection; node-redis subscribes again after a reconnect, and
   * `onResubscribed` listeners hear about it (messages sent meanwhile are lost: catch up).
   * Resolves to the function that removes this listener (SUNSUBSCRIBE when it was the last).
   */
  ssubscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  /** Called after the subscriber connection came back and subscribed again. */
  onResubscribed(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface RedisConnectOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS), or `unix:///path/to/redis.sock`.
   * With `cluster`, one or more comma-separated redis:// URLs of cluster nodes to start from.
   */
  url: string;
  /** Redis Cluster: route every command by its first key's slot (all keys carry hash tags). */
  cluster?: boolean;
  /** CLIENT SETNAME, e.g. `tickwire:node-a` (shows in CLIENT LIST). */
  clientName?: string;
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  startupTimeoutMs?: number;
  probeIntervalMs?: number;
  /** Jitter source for reconnect delays (injected for tests). */
  random?: () => number;
}

/** Node-redis socket/url options for `url` (unix: paths become `socket.path`). */
export function parseRedisUrl(url: string): { url?: string; path?: string } {
  if (url.startsWith('unix:')) {
    const path = url.replace(/^unix:(\/\/)?/, '');
    if (!path.startsWith('/')) throw new RangeError(`unix Redis URL needs an absolute path: ${url}`);
    return { path };
  }
  if (/^rediss?:\/\//.test(url)) return { url };
  throw new RangeError(`Redis URL must start with redis://, rediss:// or unix://, got ${JSON.stringify(url)}`);
}

/**
 * Connects (for a single Redis: a command and a subscriber connection; for a cluster: node-redis'
 * cluster client) and resolves once Redis answered; rejects with RedisUnavailableError after
 * `startupTimeoutMs`.
 */
export async function connectRedis(options: RedisConnectOptions): Promise<ClusterRedis> {
  const adapter = new NodeRedisAdapter(options);
  await adapter.start(options.startupTimeoutMs ?? REDIS_STARTUP_TIMEOUT_MS);
  return adapter;
}

type CommandOptions = { timeout: number; rejectInFlight: true; typeMapping?: Record<number, BufferConstructor> };
type Listener = (message: string) => void;

/** The part that differs between one Redis and a Redis Cluster. */
interface Driver {
  connect(): Promise<unknown>;
  /** `firstKey` routes the command in a cluster (undefined: any node). */
  send(firstKey: string | undefined, args: Array<string | Buffer>, options: CommandOptions): Promise<unknown>;
  sSubscribe(channel: string, listener: Listener): Promise<void>;
  sUnsubscribe(channel: string, listener: Listener): Promise<void>;
  /** A command connection is up (false while reconnecting). */
  readonly ready: boolean;
  readonly open: boolean;
  destroy(): void;
}

interface DriverEvents {
  /** A (re)connection of a command connection finished: possibly a new Redis behind it. */
  connected(): void;
  /** A connection failed or dropped. */
  failed(): void;
  /** Pub/sub connections came back and subscribed again (messages in between are lost). */
  resubscribed(): void;
}

type SingleClient = ReturnType<typeof createClient<Record<string, never>, Record<string, never>, Record<string, never>, 2>>;
interface SocketOptions {
  connectTimeout: number;
  reconnectStrategy: (retries: number) => number;
}

function singleDriver(url: string, clientName: string | undefined, socket: SocketOptions, events: DriverEvents): Driver {
  const target = parseRedisUrl(url);
  const clientOptions = {
    ...(target.url ? { url: target.url } : {}),
    socket: target.path ? { ...socket, path: target.path } : socket,
    RESP: 2 as const,
    name: clientName,
    disableOfflineQueue: true,
    commandsQueueMaxLength: REDIS_MAX_QUEUED_COMMANDS,
  };
  const main = createClient(clientOptions) as SingleClient;
  const subscriber = createClient({ ...clientOptions, name: clientName ? `${clientName}:sub` : undefined }) as SingleClient;
  // node-redis emits 'error' for every failed (re)connection; without a listener Node would throw.
  main.on('error', () => events.failed());
  main.on('ready', () => events.connected());
  let subscriberReadyOnce = false;
  subscriber.on('error', () => { /* its reconnects are reported through 'ready' below */ });
  subscriber.on('ready', () => {
    if (subscriberReadyOnce) events.resubscribed();
    subscriberReadyOnce = true;
  });
  return {
    connect: () => Promise.all([main.connect(), subscriber.connect()]),
    send: (_firstKey, args, options) => main.sendCommand(args, options),
    sSubscribe: (channel, listener) => subscriber.sSubscribe(channel, listener),
    sUnsubscribe: (channel, listener) => (subscriber.isOpen ? subscriber.sUnsubscribe(channel, listener) : Promise.resolve()),
    get ready() { return main.isReady; },
    get open() { return main.isOpen; },
    destroy() {
      for (const client of [main, subscriber]) if (client.isOpen) client.destroy();
    },
  };
}

function clusterDriver(urls: string, clientName: string | undefined, socket: SocketOptions, events: DriverEvents): Driver {
  const rootNodes = urls.split(',').map((u) => u.trim()).filter(Boolean).map((u) => {
    if (!/^rediss?:\/\//.test(u)) throw new RangeError(`Redis Cluster nodes need redis:// or rediss:// URLs, got ${JSON.stringify(u)}`);
    return { url: u };
  });
  if (rootNodes.length === 0) throw new RangeError('Redis Cluster needs at least one node URL');
  const cluster = createCluster({
    rootNodes,
    RESP: 2,
    defaults: { socket, name: clientName, disableOfflineQueue: true, commandsQueueMaxLength: REDIS_MAX_QUEUED_COMMANDS },
    useReplicas: false,
  });
  let connectedOnce = false;
  cluster.on('error', () => events.failed());
  cluster.on('node-error', () => events.failed());
  cluster.on('node-ready', () => {
    events.connected();
    // node-redis subscribes a shard's channels again when it reconnects; catch up after it.
    if (connectedOnce) events.resubscribed();
  });
  return {
    connect: () => cluster.connect().then(() => { connectedOnce = true; events.connected(); }),
    send: (firstKey, args, options) => cluster.sendCommand(firstKey, false, args, options),
    sSubscribe: (channel, listener) => cluster.sSubscribe(channel, listener),
    sUnsubscribe: (channel, listener) => (cluster.isOpen ? cluster.sUnsubscribe(channel, listener) : Promise.resolve()),
    get ready() { return cluster.isOpen; },
    get open() { return cluster.isOpen; },
    destroy() {
      if (cluster.isOpen) cluster.destroy();
    },
  };
}

class NodeRedisAdapter implements ClusterRedis {
  private currentState: RedisState = 'connecting';
  private epoch = 0;
  private readonly driver: Driver;
  private readonly stateListeners = new Set<(state: RedisState) => void>();
  private readonly resubscribeListeners = new Set<() => void>();
  private readonly commandTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: RedisConnectOptions) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS;
    this.probeIntervalMs = options.probeIntervalMs ?? REDIS_PROBE_INTERVAL_MS;
    const base = options.reconnectBaseMs ?? REDIS_RECONNECT_BASE_MS;
    const max = options.reconnectMaxMs ?? REDIS_RECONNECT_MAX_MS;
    const random = options.random ?? Math.random;
    const socket = {
      connectTimeout: options.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS,
      // Exponential backoff with jitter (half to full delay), capped; never gives up.
      reconnectStrategy: (retries: number) => Math.round(Math.min(max, base * 2 ** Math.min(retries, 20)) * (0.5 + random() * 0.5)),
    };
    const events: DriverEvents = {
      connected: () => {
        this.epoch++;
        this.setState('ready');
      },
      failed: () => this.setState('down'),
      resubscribed: () => {
        for (const listener of [...this.resubscribeListeners]) listener();
      },
    };
    this.driver = options.cluster
      ? clusterDriver(options.url, options.clientName, socket, events)
      : singleDriver(options.url, options.clientName, socket, events);
  }

  get state(): RedisState {
    return this.currentState;
  }

  get connectionEpoch(): number {
    return this.epoch;
  }

  async start(startupTimeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis not ready within ${startupTimeoutMs} ms`)), startupTimeoutMs);
    });
    try {
      await Promise.race([this.driver.connect(), timeout]);
    } catch (error) {
      await this.close();
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError('Redis connection failed', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  onStateChange(listener: (state: RedisState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onResubscribed(listener: () => void): () => void {
    this.resubscribeListeners.add(listener);
    return () => this.resubscribeListeners.delete(listener);
  }

  async run(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    if (keys.length !== script.keys) throw new RangeError(`script ${script.name} takes ${script.keys} keys, got ${keys.length}`);
    const rest = [String(keys.length), ...keys, ...args.map((a) => (typeof a === 'number' ? String(a) : a))];
    try {
      return await this.send(keys[0], ['EVALSHA', script.sha, ...rest]);
    } catch (error) {
      // A restarted (or flushed) Redis has lost its script cache; send the text once.
      if (error instanceof RedisReplyError && error.message.startsWith('NOSCRIPT')) return await this.send(keys[0], ['EVAL', script.source, ...rest]);
      throw error;
    }
  }

  async get(key: string): Promise<string | null> {
    return (await this.send(key, ['GET', key])) as string | null;
  }

  async getBuffer(key: string): Promise<Buffer | null> {
    return (await this.send(key, ['GET', key], true)) as Buffer | null;
  }

  async xrange(key: string, start: string, end: string, count: number): Promise<StreamEntry[]> {
    return (await this.send(key, ['XRANGE', key, start, end, 'COUNT', String(count)])) as StreamEntry[];
  }

  async ssubscribe(channel: string, listener: Listener): Promise<() => Promise<void>> {
    // A wrapper of our own, so removing it can never remove another subscriber's listener.
    const own: Listener = (message) => listener(message);
    try {
      await this.driver.sSubscribe(channel, own);
    } catch (error) {
      throw mapError(error);
    }
    return async () => {
      try {
        await this.driver.sUnsubscribe(channel, own);
      } catch (error) {
        throw mapError(error);
      }
    };
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.setState('closed');
    this.stateListeners.clear();
    this.resubscribeListeners.clear();
    // destroy(), not close(): nothing is waiting for replies we still care about, and a paused
    // Redis would keep a graceful QUIT waiting.
    this.driver.destroy();
  }

  private async send(firstKey: string | undefined, args: Array<string | Buffer>, binary = false): Promise<unknown> {
    if (this.currentState === 'closed') throw new RedisUnavailableError('Redis client closed');
    try {
      const reply = await this.driver.send(firstKey, args, {
        timeout: this.commandTimeoutMs,
        rejectInFlight: true,
        ...(binary ? { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } : {}),
      });
      if (this.currentState === 'down') this.setState('ready');
      return reply;
    } catch (error) {
      const mapped = mapError(error);
      if (mapped instanceof RedisUnavailableError && this.currentState === 'ready') this.setState('down');
      throw mapped;
    }
  }

  private setState(state: RedisState): void {
    if (this.currentState === state || this.currentState === 'closed') return;
    this.currentState = state;
    if (state === 'down') this.scheduleProbe();
    for (const listener of [...this.stateListeners]) listener(state);
  }

  /** While down on an open connection (paused Redis, partition), find out when it answers again. */
  private scheduleProbe(): void {
    if (this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      if (this.currentState !== 'down') return;
      if (!this.driver.ready) {
        this.scheduleProbe(); // reconnecting: the connected event will report it
        return;
      }
      this.send(undefined, ['PING']).catch(() => this.scheduleProbe());
    }, this.probeIntervalMs);
    this.probeTimer.unref();
  }
}

function mapError(error: unknown): Error {
  if (error instanceof ErrorReply) return new RedisReplyError(error.message, { cause: error });
  if (error instanceof RedisUnavailableError || error instanceof RedisReplyError) return error;
  if (error instanceof RangeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RedisUnavailableError(`Redis unavailable: ${message}`, { cause: error });
}
