import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../tools/lib/args.js';
import { checkPinCpus, cpuList, findDescendants, missingCpus, parsePin, pinDescendantsWhenSeen, pinFlag, pinProcess, threadCpus } from '../../../tools/lib/pin.js';

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
    expect(parsePin('0:1:2')).toBeNull();
    expect(parsePin(':1')).toBeNull();
    expect(parsePin('0:')).toBeNull();
    expect(parsePin('2-1:0')).toBeNull();
    expect(parsePin('0,:1')).toBeNull();
    expect(parsePin('0-99999:1')).toBeNull();
  });

  it('--pin: a bad string is a usage error naming the flag', () => {
    expect(pinFlag('0:1')).toEqual({ server: '0', clients: '1' });
    for (const bad of ['', '0', 'a:b', '0:1:2', '1-0:2', ' 0:1']) {
      expect(() => pinFlag(bad)).toThrow(UsageError);
      expect(() => pinFlag(bad)).toThrow(/--pin needs SERVER:CLIENTS/);
    }
  });

  it('expands CPU lists and names the CPUs a machine lacks', () => {
    expect(cpuList('0')).toEqual([0]);
    expect(cpuList('3,0-2,1')).toEqual([0, 1, 2, 3]);
    expect(cpuList('1-')).toBeNull();
    expect(missingCpus({ server: '0', clients: '1' }, [0, 1])).toEqual([]);
    expect(missingCpus({ server: '0', clients: '2-3' }, [0, 1])).toEqual([2, 3]);
    expect(missingCpus({ server: '5', clients: '5' }, [0, 1])).toEqual([5]);
  });

  it('refuses a CPU this machine does not have, with a usage error naming it', () => {
    expect(() => checkPinCpus({ server: '0', clients: '4095' })).toThrow(UsageError);
    expect(() => checkPinCpus({ server: '0', clients: '4095' })).toThrow(/CPU 4095 not available here/);
    expect(() => checkPinCpus({ server: '0', clients: '0' })).not.toThrow();
  });

  it('reads back every thread of a process', () => {
    const sh = tree('pin-test-c');
    pinProcess(sh.pid!, '0');
    expect(threadCpus(sh.pid!)).toEqual(['0']);
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
