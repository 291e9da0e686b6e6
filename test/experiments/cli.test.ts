/**
 * The experiment CLI as a user meets it: a plain refusal when it cannot run, and a clean
 * teardown (namespaces, delay stages, rules) when interrupted mid-run.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLeftovers } from '../../experiments/netns.js';
import { REPO_ROOT } from '../../tools/lib/child.js';
import { canRunNetnsTests } from './can-run.js';

const decision = await canRunNetnsTests();
const isRoot = process.getuid?.() === 0;
/** `nobody` on Debian: a real unprivileged user to drop to when the tests run as root. */
const NOBODY = 65534;

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Start the CLI; `onStderr` may act on its progress lines. Bounded by `timeoutMs`. */
function runCli(args: string[], opts: { uid?: number; env?: Record<string, string>; onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void; timeoutMs: number }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'experiments/run.ts'), ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, ...(opts.uid !== undefined ? { HOME: '/tmp' } : {}) },
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
    });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${opts.timeoutMs} ms; stderr:\n${stderr}`));
    }, opts.timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, (s) => child.kill(s));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('experiment CLI', () => {
  it('refuses plainly, with exit code 3, when not root', async () => {
    const r = await runCli(['--quick'], { uid: isRoot ? NOBODY : undefined, timeoutMs: 30_000 });
    expect(r.stderr).toMatch(/needs root/);
    expect(r.code).toBe(3);
  });

  it('rejects bad options with the usage text and exit code 2', async () => {
    const r = await runCli(['--loss', 'lots'], { timeoutMs: 30_000 });
    expect(r.stderr).toMatch(/--loss needs a number in \[0, 100\], got "lots"/);
    expect(r.stderr).toMatch(/usage: npm run experiment/);
    expect(r.code).toBe(2);
  });

  it('refuses a namespace tag that would not fit an interface name, plainly, with exit code 3', async () => {
    const r = await runCli(['--quick'], { env: { TICKWIRE_NETNS_TAG: 'delayreport' }, timeoutMs: 30_000 });
    expect(r.stderr).toContain('experiment: TICKWIRE_NETNS_TAG must be 1-5 characters of [a-z0-9], got "delayreport"');
    // The message alone, not a stack trace.
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(3);
  });

  it.skipIf(!decision.run).each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s mid-run removes its namespaces and exits %d', async (signal, exitCode) => {
    const out = mkdtempSync(join(tmpdir(), 'tw-exp-'));
    let prefix: string | null = null;
    try {
      // With added delay, so the delay stages (or netem) are in force when the signal comes.
      const r = await runCli(['--rtt', '50', '--loss', '5', '--duration', '30', '--bots', '2', '--out', out], {
        timeoutMs: 60_000,
        onStderr: (text, kill) => {
          // Interrupt inside an arm, with the server and bots processes running in the namespaces.
          const m = /namespaces: (tw[0-9a-z]+)-srv/.exec(text);
          if (m && !prefix && text.includes('loss 5%, WebTransport datagrams...')) {
            prefix = m[1];
            setTimeout(() => kill(signal), 1500);
          }
        },
      });
      expect(prefix).not.toBeNull();
      expect(r.stderr).toContain(`${signal}: removing namespaces`);
      expect(r.code).toBe(exitCode);
      expect(await findLeftovers(prefix!)).toEqual({ namespaces: [], links: [], nftTables: [] });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 70_000);
});
