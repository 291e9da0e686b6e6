import { describe, expect, it } from 'vitest';
import { callsBetween, commandsPerLine, parseCommandStats } from '../../../bench/cluster/redis-commands.js';

/** `INFO commandstats` as Redis 7 prints it (subcommands as `name|sub`). */
function info(calls: Record<string, number>): string {
  return ['# Commandstats', ...Object.entries(calls).map(([cmd, n]) => `cmdstat_${cmd}:calls=${n},usec=${n * 3},usec_per_call=3.00,rejected_calls=0,failed_calls=0`), ''].join('\r\n');
}

const m = (o: Record<string, number>) => new Map(Object.entries(o));

describe('Redis commands per chat line (bench:cluster)', () => {
  it('parses INFO commandstats, subcommands included', () => {
    const stats = parseCommandStats(info({ evalsha: 120, xadd: 90, 'client|setname': 3, info: 7 }));
    expect(stats).toEqual(m({ evalsha: 120, xadd: 90, 'client|setname': 3, info: 7 }));
  });

  it('takes differences without our own INFO probe, and refuses counters that went down', () => {
    expect(callsBetween(m({ evalsha: 10, info: 2, get: 4 }), m({ evalsha: 25, info: 4, get: 4, xadd: 3 }))).toEqual(m({ evalsha: 15, xadd: 3 }));
    expect(() => callsBetween(m({ evalsha: 10 }), m({ evalsha: 2 }))).toThrow(/went down/);
    expect(() => callsBetween(m({ evalsha: 10, xadd: 1 }), m({ evalsha: 12 }))).toThrow(/disappeared/);
  });

  it('is the chat window minus the idle rate over the chat window, per delivered line', () => {
    // Background 30 commands/s (heartbeats, renewals, checkpoints): 20 EVALSHA + 10 GET a second.
    // Idle 10 s; chat window 12 s with 80 lines, each stored by one append script of 1 + 7 calls.
    const idle = { calls: m({ evalsha: 200, get: 100 }), ms: 10_000 };
    const chat = { calls: m({ evalsha: 240 + 80, get: 120 + 80, hmget: 80, xadd: 80, hset: 80, spublish: 80, pexpire: 160 }), ms: 12_000 };
    const r = commandsPerLine(idle, chat, 80)!;
    expect(r.perLine).toBe(8);
    expect(r.scriptsPerLine).toBe(1);
    expect(r.byCommand).toEqual({ evalsha: 1, get: 1, hmget: 1, xadd: 1, hset: 1, spublish: 1, pexpire: 2 });
    expect(r.backgroundPerSecond).toBe(30);
    expect(r.chatWindowCalls).toBe(1000);
    expect(r.lines).toBe(80);
  });

  it('counts batched lines as Redis ran them: one script for several lines', () => {
    // 10 lines a round: the first stored alone, nine in one batch: 2 scripts, 2 × 7 + 10 calls.
    const idle = { calls: m({}), ms: 5_000 };
    const chat = { calls: m({ evalsha: 2, get: 2, hmget: 2, xadd: 10, hset: 2, spublish: 2, pexpire: 4 }), ms: 5_000 };
    expect(commandsPerLine(idle, chat, 10)).toMatchObject({ perLine: 2.4, scriptsPerLine: 0.2 });
  });

  it('no line delivered: no figure', () => {
    expect(commandsPerLine({ calls: m({ get: 5 }), ms: 1000 }, { calls: m({ get: 5 }), ms: 1000 }, 0)).toBeNull();
  });

  it('an idle window that was not idle (300 sessions ending in it) is refused, not printed as a negative count', () => {
    // What the bench did before: the idle window opened right after 300 clients closed (seat
    // releases, the rooms' last checkpoints) and was 10 s while the chat window was longer and
    // quiet; (chat − idle) / lines came out below zero.
    const idle = { calls: m({ evalsha: 1_400, get: 300 }), ms: 10_000 };
    const chat = { calls: m({ evalsha: 250, xadd: 90, get: 60 }), ms: 11_000 };
    expect(() => commandsPerLine(idle, chat, 90)).toThrow(/not the same steady state/);
  });
});
