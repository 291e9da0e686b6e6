/**
 * Nothing outlives the run: a parent (parent-fixture.ts, set up like the harness) with two
 * namespaces and two delay stages is killed, by Ctrl-C (SIGINT), by SIGTERM and outright by
 * SIGKILL, and afterwards there is no stage process, no guard, no namespace, no link, no nftables
 * table and no NFQUEUE rule anywhere on the host.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../tools/lib/child.js';
import { findLeftovers, type Topology } from '../../../experiments/netns.js';
import { runCommand } from '../../../experiments/shell.js';
import { canRunNetnsTests } from '../can-run.js';
import { canBuildDelayStage } from './can-build.js';

const netns = await canRunNetnsTests();
const build = netns.run ? await canBuildDelayStage() : { binary: null };

interface Ready {
  topo: Topology;
  stagePids: number[];
  guardPid: number;
}

/** True while `pid` is a live process (a zombie has finished: it only waits to be reaped). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Start the fixture and wait for its ready line (bounded). */
function startParent(): Promise<{ pid: number; ready: Ready; exited: Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/experiments/delay/parent-fixture.ts')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((res) => child.once('exit', res));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture not ready within 30 s; stderr:\n${stderr}`));
    }, 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{"event":"ready"')) return;
      clearTimeout(timer);
      resolve({ pid: child.pid!, ready: JSON.parse(line) as Ready, exited });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited (${code}) before ready; stderr:\n${stderr}`));
    });
  });
}

/** Everything the run could have left on the host. */
async function leftovers(r: Ready) {
  const host = await runCommand('iptables', ['-w', '5', '-t', 'raw', '-S']);
  return {
    ...(await findLeftovers(r.topo.prefix)),
    processes: [...r.stagePids, r.guardPid].filter(alive),
    hostNfqueueRules: host.stdout.split('\n').filter((l) => l.includes('NFQUEUE')),
  };
}

const CLEAN = { namespaces: [], links: [], nftTables: [], processes: [], hostNfqueueRules: [] };

describe.skipIf(!netns.run || !build.binary)('delay stage cleanup when the parent is killed', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`leaves nothing behind after ${signal}`, async () => {
      const parent = await startParent();
      const r = parent.ready;
      // Everything is really there first, so the check below can fail.
      const before = await leftovers(r);
      expect(before.namespaces).toHaveLength(2);
      expect(before.processes).toHaveLength(3);
      for (const ns of [r.topo.server.ns, r.topo.client.ns]) {
        const rules = await runCommand('ip', ['netns', 'exec', ns, 'iptables', '-w', '5', '-t', 'raw', '-S']);
        expect(rules.stdout).toContain('NFQUEUE');
      }

      process.kill(parent.pid, signal);
      await parent.exited;
      // SIGKILL leaves the work to the kernel (PR_SET_PDEATHSIG stops the stages) and the guard.
      await expect.poll(() => leftovers(r), { timeout: 15_000, interval: 200 }).toEqual(CLEAN);
    }, 60_000);
  }
});
