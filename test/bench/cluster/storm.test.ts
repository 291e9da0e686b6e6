import { describe, expect, it } from 'vitest';
import { summarizeStorm, type StormClient } from '../../../bench/cluster/storm.js';
import { ErrorCode } from '../../../shared/errors.js';

const T0 = 1_000_000;
const limit = { ratePerSecond: 50, burst: 20 };

const admitted = (atMs: number): StormClient => ({ welcomeAt: T0 + atMs, resumed: true, helloRefusals: [], httpRefusals: [] });

describe('reconnect storm summary (bench:cluster)', () => {
  it('counts who got in at once, who was refused with which code and retry time, and that they got in', () => {
    const clients: StormClient[] = [
      admitted(5), admitted(8),
      { welcomeAt: T0 + 1_300, resumed: true, helloRefusals: [{ code: ErrorCode.SERVER_BUSY, retryAfterMs: 20 }], httpRefusals: [] },
      { welcomeAt: T0 + 2_100, resumed: true, helloRefusals: [{ code: ErrorCode.SERVER_BUSY, retryAfterMs: 40 }, { code: ErrorCode.SERVER_BUSY, retryAfterMs: 900 }], httpRefusals: [{ status: 503, retryAfterSeconds: 1 }] },
      { welcomeAt: T0 + 2_500, resumed: true, helloRefusals: [], httpRefusals: [{ status: 503, retryAfterSeconds: 2 }] },
    ];
    const s = summarizeStorm(clients, T0, limit);
    expect(s).toMatchObject({
      clients: 5, admittedFirstTry: 2, refusedClients: 3, refusedThenIn: 3, allIn: true, allResumed: true, lastInMs: 2_500,
      hello: { refusals: 3, byCode: { '4017 SERVER_BUSY': 3 }, retryAfterMs: { min: 20, p50: 40, max: 900 } },
      connectInfo: { refusals: 2, byStatus: { 503: 2 }, retryAfterSeconds: { min: 1, max: 2 } },
      attemptsPerClient: { mean: 2, max: 4 },
      acceptsPerSecond: [2, 1, 2], maxAcceptsPerSecond: 2, limitPerSecond: 70,
    });
  });

  it('a refused client that never got in makes allIn false', () => {
    const stuck: StormClient = { welcomeAt: null, resumed: false, helloRefusals: [{ code: ErrorCode.SERVER_BUSY, retryAfterMs: 10_000 }], httpRefusals: [] };
    const s = summarizeStorm([admitted(10), stuck], T0, limit);
    expect(s).toMatchObject({ allIn: false, allResumed: false, refusedClients: 1, refusedThenIn: 0, acceptsPerSecond: [1] });
  });

  it('a storm nobody was refused in says so (the old bench: the limit never met)', () => {
    const s = summarizeStorm([admitted(100), admitted(1_200)], T0, limit);
    expect(s).toMatchObject({ refusedClients: 0, hello: { refusals: 0, retryAfterMs: null }, connectInfo: { refusals: 0, retryAfterSeconds: null } });
  });
});
