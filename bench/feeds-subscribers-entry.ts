/**
 * Subscriber side of bench/feeds.ts (a child process, so the server's CPU is measured alone):
 * N SSE readers of one room's chat stream (tools/lib/sse-client.ts over node:http). Each line's
 * text carries the server's send time (`b <seq> <epoch ms>`); every reader records when it got
 * it, by the same epoch clock (tools/lib/clock.ts).
 *
 * Commands: `start` {url, room, count} -> `ready` {connected, refused}; `reset` -> `reset`;
 * `report` {lines} -> `report` {...}: per line the latency to the last reader (all readers have
 * it) and every single delivery, lines missing or received twice, and this process's own load.
 */
import { emit, serveCommands } from '../tools/lib/child-entry.js';
import { epochNow, sleep } from '../tools/lib/clock.js';
import { ProcessLoad } from '../tools/lib/process-load.js';
import { SseConnection } from '../tools/lib/sse-client.js';
import { SampleReservoir, summarize } from '../tools/lib/stats.js';

/** Streams opened at once while connecting (keeps the accept queue from overflowing). */
const CONNECT_CONCURRENCY = 100;
/** Single-delivery latencies kept (a uniform sample beyond this). */
const DELIVERY_SAMPLES = 200_000;
/** Lines tracked per window at most (the harness posts far fewer). */
const MAX_LINES = 100_000;

let readers: SseConnection[] = [];
/** Per line seq: deliveries seen and the latest arrival. */
let seen = new Map<number, { count: number; last: number; sentAt: number }>();
let deliveries = new SampleReservoir(DELIVERY_SAMPLES);
let duplicates = 0;
let load: ProcessLoad | null = null;
/** Per reader, the newest seq it got (a repeat or a step back is a duplicate). */
let newest: number[] = [];

function onLine(reader: number, data: string): void {
  const now = epochNow();
  const text = (JSON.parse(data) as { text: string }).text;
  const m = /^b (\d+) ([\d.]+)$/.exec(text);
  if (!m) return;
  const seq = Number(m[1]);
  const sentAt = Number(m[2]);
  if (seq <= newest[reader]) {
    duplicates++;
    return;
  }
  newest[reader] = seq;
  deliveries.add(now - sentAt);
  let s = seen.get(seq);
  if (!s) {
    if (seen.size >= MAX_LINES) return;
    s = { count: 0, last: 0, sentAt };
    seen.set(seq, s);
  }
  s.count++;
  s.last = now;
}

serveCommands(async (cmd) => {
  switch (cmd.cmd) {
    case 'start': {
      const url = `${String(cmd.url)}/api/rooms/${String(cmd.room)}/chat/stream`;
      const count = Number(cmd.count);
      newest = new Array<number>(count).fill(0);
      for (let i = 0; i < count; i += CONNECT_CONCURRENCY) {
        const batch = Array.from({ length: Math.min(CONNECT_CONCURRENCY, count - i) }, (_, k) => {
          const index = i + k;
          const c = new SseConnection(url, { onEvent: (e) => { if (e.event === 'chat') onLine(index, e.data); } });
          return c.opened.then(() => c);
        });
        readers.push(...(await Promise.all(batch)));
      }
      // Every reader's catch-up is done once it has its `ready` event.
      const deadline = Date.now() + 60_000;
      while (readers.some((r) => r.status === 200 && r.named('ready').length === 0) && Date.now() < deadline) await sleep(50);
      emit('ready', {
        connected: readers.filter((r) => r.status === 200 && !r.ended).length,
        refused: readers.filter((r) => r.status !== 200).length,
      });
      return;
    }
    case 'reset':
      seen = new Map();
      deliveries = new SampleReservoir(DELIVERY_SAMPLES);
      duplicates = 0;
      load = new ProcessLoad();
      emit('reset');
      return;
    case 'report': {
      const lines = Number(cmd.lines);
      const open = readers.filter((r) => r.status === 200 && !r.ended).length;
      const toAll: number[] = [];
      let missing = 0;
      for (let seq = 1; seq <= lines; seq++) {
        const s = seen.get(seq);
        missing += open - (s?.count ?? 0);
        if (s && s.count >= open) toAll.push(s.last - s.sentAt);
      }
      const d = summarize(deliveries.values());
      const all = summarize(toAll);
      emit('report', {
        readers: open,
        linesToAll: toAll.length,
        missingDeliveries: missing,
        duplicates,
        toAllMs: { p50: all.p50, p99: all.p99, max: all.max },
        deliveryMs: { p50: d.p50, p99: d.p99, max: d.max, samples: d.count },
        subscriberLoad: load?.stop() ?? null,
      });
      return;
    }
    case 'close':
      for (const r of readers) r.close();
      readers = [];
      emit('closed');
      return;
    default:
      return;
  }
}, { onStop: () => { for (const r of readers) r.close(); } });
