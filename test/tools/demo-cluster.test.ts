/**
 * `npm run demo:cluster` (tools/demo-cluster.ts) in Debian's Chromium: the real demo process
 * (redis-server and three `npm start` nodes) on free ports; Alice opens node-1's page and Bob
 * node-2's, both in the default room: whichever node runs the room, both land on it, see each
 * other move, and their HUDs name that node (the one /api/cluster lists the room under). Ctrl-C
 * (SIGINT) then stops the nodes and redis-server. A browser test: run it under the heavy lock.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ToolChild } from '../../tools/lib/child.js';
import { processAlive } from '../../tools/lib/process-alive.js';
import { launchChromium, openChromiumPage } from '../browser/game-drivers.js';
import { CHROMIUM_PATH, browserPresent, ensureClientBuilt, moveAndWatch, waitFor, waitJoined } from '../browser/game-harness.js';

const NODES = 3;
/** Node start includes tsx and, for node-1, a client build check. */
const DEMO_START_TIMEOUT_MS = 150_000;

/** Whether `port` is free for TCP (HTTP) or UDP (WebTransport) on 127.0.0.1. */
function free(port: number, udp: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    }
  });
}

/** A base port whose NODES consecutive ports are free (TCP and UDP), from a random start. */
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let i = 0; i < NODES && ok; i++) ok = (await free(base + i, false)) && (await free(base + i, true));
    if (ok) return base;
  }
  throw new Error('no free port range');
}

/** What `/api/cluster` says (server/cluster-mode.ts `status()`), the fields used here. */
interface ClusterView {
  nodes: Array<{ id: string; roomIds: string[] }>;
}

describe.skipIf(!browserPresent(CHROMIUM_PATH))('npm run demo:cluster in Chromium', () => {
  it('two players opening two different nodes meet in one room, on the node their HUDs name; Ctrl-C stops it all', async () => {
    await ensureClientBuilt();
    const httpBase = await freeBase();
    const wtBase = await freeBase();
    const logDir = mkdtempSync(join(tmpdir(), 'tickwire-demo-cluster-test-'));
    const logFile = join(logDir, 'demo.log');
    const output = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    const demo = ToolChild.script('tools/demo-cluster.ts', [], {
      label: 'demo:cluster', logFile,
      env: { ...process.env, TICKWIRE_DEMO_BASE_PORT: String(httpBase), TICKWIRE_DEMO_WT_BASE_PORT: String(wtBase) },
    });
    const urls = Array.from({ length: NODES }, (_, i) => `http://127.0.0.1:${httpBase + i}`);
    const browser = await launchChromium();
    const closers: Array<() => Promise<void>> = [];
    try {
      await waitFor('the demo to print that it is ready', () => output().includes('Ctrl-C stops'), DEMO_START_TIMEOUT_MS, 200)
        .catch((e: unknown) => { throw new Error(`${(e as Error).message}\n${demo.recentOutput(40)}`); });
      const printed = output();
      const pids = [...printed.matchAll(/^node-\d: \S+ +\(pid (\d+);/gm)].map((m) => Number(m[1]));
      expect(pids).toHaveLength(NODES);
      const redisSocket = /^redis-server on unix:\/\/(\S+)/m.exec(printed)?.[1];
      expect(redisSocket && existsSync(redisSocket)).toBe(true);
      await waitFor('three live nodes in /api/cluster', async () => ((await (await fetch(`${urls[0]}/api/cluster`)).json()) as ClusterView).nodes.length === NODES, 15_000, 200);

      const a = await openChromiumPage(browser, `${urls[0]}/?name=Alice`, 'Alice');
      closers.push(a.close);
      const b = await openChromiumPage(browser, `${urls[1]}/?name=Bob`, 'Bob');
      closers.push(b.close);
      const ta = await waitJoined(a.game, 2, 30_000);
      const tb = await waitJoined(b.game, 2, 30_000);
      expect(ta.ownEntityId).not.toBe(tb.ownEntityId);
      expect(ta.transport).toBe('webtransport');
      expect(tb.transport).toBe('webtransport');

      // Both HUDs name one node, and it is the node the cluster lists the room under.
      const nodeOf = async (p: typeof a.game) => waitFor(`${p.label}'s HUD to name a node`, async () => {
        const text = (await p.text('#hud-node')).trim();
        return /^node-\d$/.test(text) ? text : null;
      });
      const hudA = await nodeOf(a.game);
      const hudB = await nodeOf(b.game);
      expect(hudB).toBe(hudA);
      // The registry learns a node's rooms at its next heartbeat (1 s), and status is polled.
      await waitFor(`/api/cluster on node-3 to list arena under ${hudA}`, async () => {
        const view = (await (await fetch(`${urls[2]}/api/cluster`)).json()) as ClusterView;
        return view.nodes.find((n) => n.roomIds.includes('arena'))?.id === hudA;
      }, 10_000, 250);

      // They see each other move.
      expect(await moveAndWatch(a.game, b.game, 'ArrowRight')).toBeGreaterThanOrEqual(20);
      expect(await moveAndWatch(b.game, a.game, 'ArrowDown')).toBeGreaterThanOrEqual(20);

      for (const c of closers.splice(0).reverse()) await c();
      // Ctrl-C: the demo stops its nodes and redis-server, then exits.
      process.kill(demo.pid!, 'SIGINT');
      await demo.waitExit(30_000);
      expect(pids.filter(processAlive)).toEqual([]);
      for (const u of urls) await expect(fetch(`${u}/healthz`)).rejects.toThrow();
      expect(existsSync(redisSocket!)).toBe(false); // redis-server stopped, its folder removed
    } finally {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      await browser.close();
      await demo.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  }, 240_000);
});
