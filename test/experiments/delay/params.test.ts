/**
 * The rules of link conditions, without root: defaults, every refusal's message, which
 * mechanism runs for which conditions, the stage's argv, the guard's line protocol and the
 * install hint.
 */
import { describe, it, expect } from 'vitest';
import {
  ConditionError,
  DEFAULT_JITTER_MODE,
  directionSeed,
  resolveConditions,
  stageArgv,
  type LinkConditions,
  type StageParams,
} from '../../../experiments/delay/params.js';
import { planMechanism } from '../../../experiments/delay/conditions.js';
import { guardLine, parseGuardLine } from '../../../experiments/delay/guard.js';
import { installHint } from '../../../experiments/delay/build.js';
import { EnvironmentError, type Topology } from '../../../experiments/netns.js';

describe('resolveConditions', () => {
  it('fills the defaults: order-keeping uniform jitter, CUBIC, no loss, half the RTT each way', () => {
    expect(resolveConditions({ rttMs: 100 })).toEqual({
      rttMs: 100,
      oneWayMs: 50,
      jitterMs: 0,
      jitterMode: 'order',
      jitterDist: 'uniform',
      lossPct: 0,
      seed: null,
      tcpCongestion: 'cubic',
      maxHeld: null,
    });
    expect(DEFAULT_JITTER_MODE).toBe('order');
  });

  const bad: Array<[string, LinkConditions, RegExp]> = [
    ['negative RTT', { rttMs: -1 }, /rttMs must be within 0\.\.20000, got -1/],
    ['NaN RTT', { rttMs: Number.NaN }, /rttMs must be a number, got null/],
    ['RTT as a string', { rttMs: '100' as unknown as number }, /rttMs must be a number, got "100"/],
    ['jitter above the one-way delay', { rttMs: 20, jitterMs: 11 }, /jitterMs \(11\) must not exceed the one-way delay \(rttMs \/ 2 = 10\)/],
    ['unknown jitter mode', { rttMs: 100, jitterMs: 5, jitterMode: 'shuffle' as never }, /jitterMode must be one of order, reorder, got "shuffle"/],
    ['unknown distribution', { rttMs: 100, jitterDist: 'pareto' as never }, /jitterDist must be one of uniform, normal, got "pareto"/],
    ['loss above 100', { rttMs: 0, lossPct: 101 }, /lossPct must be within 0\.\.100, got 101/],
    ['fractional seed', { rttMs: 0, seed: 1.5 }, /seed must be an integer, got 1\.5/],
    ['unknown congestion control', { rttMs: 0, tcpCongestion: 'reno' as never }, /tcpCongestion must be one of cubic, bbr, got "reno"/],
    ['zero max held', { rttMs: 0, maxHeld: 0 }, /maxHeld must be within 1\.\.1000000, got 0/],
  ];
  for (const [what, c, msg] of bad) {
    it(`refuses ${what} with a message naming the field`, () => {
      expect(() => resolveConditions(c)).toThrow(ConditionError);
      expect(() => resolveConditions(c)).toThrow(msg);
    });
  }
});

describe('planMechanism', () => {
  const r = (c: LinkConditions) => resolveConditions(c);
  it('uses the NFQUEUE stage and nftables loss without netem', () => {
    expect(planMechanism(r({ rttMs: 100, lossPct: 5 }), false)).toEqual({ delay: 'nfqueue', loss: 'nftables', reason: 'the kernel has no sch_netem' });
  });
  it('starts nothing for what is not asked', () => {
    expect(planMechanism(r({ rttMs: 0 }), false)).toMatchObject({ delay: 'none', loss: 'none' });
    expect(planMechanism(r({ rttMs: 0, lossPct: 2 }), false)).toMatchObject({ delay: 'none', loss: 'nftables' });
  });
  it('uses netem where the kernel has it', () => {
    expect(planMechanism(r({ rttMs: 100, lossPct: 5 }), true)).toEqual({ delay: 'netem', loss: 'netem', reason: 'the kernel has sch_netem' });
    expect(planMechanism(r({ rttMs: 100, jitterMs: 5, jitterMode: 'reorder' }), true)).toMatchObject({ delay: 'netem' });
  });
  it('uses the stage for order-keeping jitter even with netem, and says why', () => {
    expect(planMechanism(r({ rttMs: 100, jitterMs: 5 }), true)).toEqual({
      delay: 'nfqueue',
      loss: 'none',
      reason: 'order-keeping jitter exists only in the NFQUEUE stage (netem jitter reorders)',
    });
  });
  it('honours a forced mechanism, or says why it cannot', () => {
    expect(planMechanism(r({ rttMs: 100 }), true, 'nfqueue')).toMatchObject({ delay: 'nfqueue', reason: 'the nfqueue mechanism was asked for' });
    expect(() => planMechanism(r({ rttMs: 100 }), false, 'netem')).toThrow(EnvironmentError);
    expect(() => planMechanism(r({ rttMs: 100, jitterMs: 5 }), true, 'netem')).toThrow(/netem's jitter reorders packets/);
  });
});

describe('stageArgv', () => {
  const p: StageParams = { queue: 7, delayMs: 50, jitterMs: 5, jitterMode: 'order', jitterDist: 'normal', seed: 3, maxHeld: 500, rtPriority: 20 };
  it('passes every parameter', () => {
    expect(stageArgv(p)).toEqual([
      '--queue', '7', '--delay-ms', '50', '--jitter-ms', '5', '--jitter-mode', 'order', '--jitter-dist', 'normal',
      '--rt-priority', '20', '--seed', '3', '--max-held', '500',
    ]);
    expect(stageArgv({ ...p, seed: null, maxHeld: null })).not.toContain('--seed');
  });
  it('refuses what the stage would refuse', () => {
    expect(() => stageArgv({ ...p, queue: 70_000 })).toThrow(/queue must be within 0\.\.65535/);
    expect(() => stageArgv({ ...p, jitterMs: 60 })).toThrow(/jitterMs \(60\) must not exceed delayMs \(50\)/);
    expect(() => stageArgv({ ...p, rtPriority: 100 })).toThrow(/rtPriority must be within 0\.\.99/);
  });
  it('derives distinct, repeatable seeds per direction', () => {
    expect([directionSeed(3, 0), directionSeed(3, 1), directionSeed(null, 0)]).toEqual([6, 7, null]);
  });
});

describe('guard line protocol', () => {
  const topo: Topology = {
    prefix: 'twabc123',
    server: { ns: 'twabc123-srv', ifname: 'twabc123-s', address: '10.200.1.1' },
    client: { ns: 'twabc123-bot', ifname: 'twabc123-b', address: '10.200.1.2' },
    prefixLength: 30,
  };
  it('round-trips watch and forget, and ignores anything else', () => {
    expect(parseGuardLine(guardLine({ op: 'watch', topology: topo }).trim())).toEqual({ op: 'watch', topology: topo });
    expect(parseGuardLine(guardLine({ op: 'forget', prefix: 'twabc123' }).trim())).toEqual({ op: 'forget', prefix: 'twabc123' });
    for (const junk of ['', 'watch', 'watch {', 'watch {"prefix":1}', 'delete everything', 'forget ']) expect(parseGuardLine(junk)).toBeNull();
  });
});

describe('installHint', () => {
  it('names each missing package, what it is for, and the command', () => {
    expect(installHint(['libnetfilter-queue-dev', 'iptables'])).toBe(
      'the NFQUEUE delay stage needs Debian packages that are not installed: ' +
        'libnetfilter-queue-dev (libnetfilter_queue headers and library), iptables (adds the NFQUEUE rule). ' +
        'Install them as root: apt-get install -y libnetfilter-queue-dev iptables',
    );
  });
});
