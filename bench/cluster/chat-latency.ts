/**
 * The chat-latency part of `npm run bench:cluster`: LATENCY_SENDERS players in a fresh room each
 * send a line every CHAT_EVERY_MS; latency is send -> the sender's own echo (a line is shown only
 * after the cluster stored it in Redis). On a cluster it also counts the Redis commands per line
 * (redis-commands.ts): an idle window with the players connected and silent, then a chat window
 * of the same length, both in one steady state.
 */
import { GameClient } from '../../client/net/game-client.js';
import type { WebSocketConstructor } from '../../client/net/transport-types.js';
import { mintTicket } from '../../server/index.js';
import { callsBetween, commandsPerLine, type CommandsPerLine } from './redis-commands.js';

export const LATENCY_SENDERS = 10;
/** Length of the idle window and of the chat window. */
export const LATENCY_WINDOW_MS = 10_000;
export const CHAT_EVERY_MS = 1_100;
/** After the joins, before the first reading: seats, the room's first checkpoint. */
const SETTLE_MS = 1_500;
/** The last line is sent this long before the chat window closes, so its echo falls inside. */
const LAST_ECHO_MS = 700;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChatLatencyResult {
  /** Distinct lines delivered (seen by any sender). */
  lines: number;
  latencies: number[];
  /** With `readCommandStats` only. */
  commands: CommandsPerLine | null;
}

/**
 * Runs the latency room. `baseUrls`: the senders ask these nodes for connect-info in turn (any
 * node answers with the owner). `readCommandStats`: `INFO commandstats` of the cluster's Redis.
 */
export async function chatLatency(
  baseUrls: readonly string[], secret: string, WS: WebSocketConstructor,
  readCommandStats?: () => Promise<Map<string, number>>,
): Promise<ChatLatencyResult> {
  const room = `latency-${Date.now()}`;
  const senders = Array.from({ length: LATENCY_SENDERS }, (_, i) => new GameClient({
    baseUrl: baseUrls[i % baseUrls.length], ticket: mintTicket(secret, { playerId: `l${i}`, name: `l${i}`, room }), transport: 'websocket', WebSocket: WS,
  }));
  const sentAt = new Map<string, number>();
  const delivered = new Set<string>();
  const latencies: number[] = [];
  senders.forEach((c, i) => c.on('chat', (m) => {
    if (sentAt.has(m.text)) delivered.add(m.text);
    const t = sentAt.get(m.text);
    if (t !== undefined && m.text.startsWith(`l${i}:`)) latencies.push(performance.now() - t);
  }));
  try {
    await Promise.all(senders.map((c) => c.connect()));
    await sleep(SETTLE_MS);
    const s0 = await readCommandStats?.();
    const t0 = performance.now();
    if (readCommandStats) await sleep(LATENCY_WINDOW_MS);
    const s1 = await readCommandStats?.();
    const t1 = performance.now();
    let k = 0;
    while (performance.now() < t1 + LATENCY_WINDOW_MS - LAST_ECHO_MS) {
      senders.forEach((c, i) => {
        const text = `l${i}:${k}`;
        sentAt.set(text, performance.now());
        c.sendChat(text);
      });
      k++;
      await sleep(Math.min(CHAT_EVERY_MS, Math.max(0, t1 + LATENCY_WINDOW_MS - LAST_ECHO_MS - performance.now())));
    }
    await sleep(Math.max(0, t1 + LATENCY_WINDOW_MS - performance.now()));
    const s2 = await readCommandStats?.();
    const t2 = performance.now();
    const commands = s0 && s1 && s2
      ? commandsPerLine({ calls: callsBetween(s0, s1), ms: t1 - t0 }, { calls: callsBetween(s1, s2), ms: t2 - t1 }, delivered.size)
      : null;
    return { lines: delivered.size, latencies, commands };
  } finally {
    for (const c of senders) c.close();
  }
}
