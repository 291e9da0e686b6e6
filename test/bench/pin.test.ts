import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { findDescendants, parsePin, pinDescendantsWhenSeen, pinProcess } from '../../bench/standard-scene/pin.js';

/** CPUs allowed to `pid`, from /proc (Cpus_allowed_list). */
function allowed(pid: number): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
}

/** Process groups started here (each test's shell leads its own). */
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/** A shell that starts a child shell whose command line carries `marker` ($0), and waits. */
function tree(marker: string) {
  const sh = spawn('sh', ['-c', `sh -c 'sleep 30; true' ${marker} & wait`], { stdio: 'ignore', detached: true });
  started.push(sh.pid!);
  return sh;
}

describe('pin.ts', () => {
  it('parses SERVER:CLIENTS CPU lists', () => {
    expect(parsePin('0:1')).toEqual({ server: '0', clients: '1' });
    expect(parsePin('0-1,3:2')).toEqual({ server: '0-1,3', clients: '2' });
    expect(parsePin('0')).toBeNull();
    expect(parsePin('x:1')).toBeNull();
  });

  it('pins a live process to one CPU, every thread, and refuses a bad CPU', () => {
    const sh = tree('pin-test-a');
    pinProcess(sh.pid!, '0');
    expect(allowed(sh.pid!)).toBe('0');
    expect(() => pinProcess(sh.pid!, '4095')).toThrow(/taskset/);
  });

  it('finds a descendant by its command line and pins it when it appears', async () => {
    const sh = tree('pin-test-b');
    const stop = pinDescendantsWhenSeen(sh.pid!, 'pin-test-b', '0', () => {});
    try {
      let found: number[] = [];
      for (let i = 0; i < 100 && !(found.length && allowed(found[0]) === '0'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        found = findDescendants(sh.pid!, 'pin-test-b');
      }
      expect(found).toHaveLength(1);
      expect(allowed(found[0])).toBe('0');
    } finally {
      stop();
    }
  });
});
