/**
 * Profiles of the measured window only (not the start-up, the joins or the shutdown): a V8 CPU
 * profile and a sampling heap profile of this process, taken through the in-process inspector
 * (`node:inspector`), written as `window.cpuprofile` and `window.heapprofile` (both open in
 * Chrome DevTools; `profile-top.ts` summarises them). Used by server-entry.ts when the bench runs
 * with `--profile-server DIR`. docs/profiling.md has the recipes.
 *
 * The heap profile keeps objects already collected by minor and major GCs, so it shows where
 * allocation happens over the window, not only what survived it.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** CPU sampling period (µs). V8's default is 1000; finer samples cost more than they show here. */
const CPU_SAMPLING_INTERVAL_US = 500;
/** Mean bytes between heap samples (V8's default is 32 KiB). */
const HEAP_SAMPLING_INTERVAL_BYTES = 16 * 1024;

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

export class WindowProfiler {
  private session: Session | null = null;

  constructor(private readonly dir: string) {}

  async start(): Promise<void> {
    const s = new Session();
    s.connect();
    this.session = s;
    await post(s, 'Profiler.enable');
    await post(s, 'Profiler.setSamplingInterval', { interval: CPU_SAMPLING_INTERVAL_US });
    await post(s, 'HeapProfiler.enable');
    await post(s, 'HeapProfiler.startSampling', {
      samplingInterval: HEAP_SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await post(s, 'Profiler.start');
  }

  /** Stops both profilers and writes the files; returns the sampled allocation total (bytes). */
  async stop(): Promise<{ allocatedBytes: number }> {
    const s = this.session;
    if (!s) return { allocatedBytes: 0 };
    this.session = null;
    const { profile: cpu } = await post<{ profile: unknown }>(s, 'Profiler.stop');
    const { profile: heap } = await post<{ profile: { head: HeapNode } }>(s, 'HeapProfiler.stopSampling');
    s.disconnect();
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'window.cpuprofile'), JSON.stringify(cpu));
    writeFileSync(join(this.dir, 'window.heapprofile'), JSON.stringify(heap));
    return { allocatedBytes: heapTotal(heap.head) };
  }
}

interface HeapNode {
  selfSize: number;
  children: HeapNode[];
}

function heapTotal(node: HeapNode): number {
  let sum = node.selfSize;
  for (const c of node.children) sum += heapTotal(c);
  return sum;
}
