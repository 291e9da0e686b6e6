// docs/cluster.md lists the cluster's named limits; this test fails when the list and the code disagree.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as admission from '../../server/cluster/admission.js';
import * as chatFanout from '../../server/cluster/chat-fanout.js';
import * as chatStream from '../../server/cluster/chat-stream.js';
import * as checkpointStore from '../../server/cluster/checkpoint-store.js';
import * as checkpoint from '../../server/cluster/checkpoint.js';
import * as lease from '../../server/cluster/lease.js';
import * as leaseTiming from '../../server/cluster/lease-timing.js';
import * as registry from '../../server/cluster/node-registry.js';
import * as redis from '../../server/cluster/redis.js';
import * as router from '../../server/cluster/router.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/cluster.md', import.meta.url)), 'utf8');
const limits = doc.slice(doc.indexOf('## Named limits')).replace(/\s+/g, ' ');

/** How the doc writes a value: 24 h, 1 MiB, 8 KiB, 1/3, or the plain number. */
function written(name: string, value: number): string {
  if (value === 24 * 60 * 60_000) return '24 h';
  if (name.endsWith('_BYTES') && value % (1024 * 1024) === 0) return `${value / (1024 * 1024)} MiB`;
  if (name.endsWith('_BYTES') && value % 1024 === 0) return `${value / 1024} KiB`;
  if (Math.abs(value - 1 / 3) < 1e-12) return '1/3';
  return String(value);
}

describe('docs/cluster.md agrees with server/cluster/', () => {
  it('lists every named limit with its value', () => {
    const modules = [admission, chatFanout, chatStream, checkpointStore, checkpoint, lease, leaseTiming, registry, redis, router];
    const constants = modules.flatMap((m) => Object.entries(m)).filter(([name, v]) => /^[A-Z][A-Z_]+$/.test(name) && typeof v === 'number' && name !== 'CHECKPOINT_FORMAT');
    expect(constants.length).toBeGreaterThan(30);
    for (const [name, value] of constants) {
      expect(limits, name).toContain(`\`${name}\` ${written(name, value as number)}`);
    }
  });

  it('states the lease timings the code computes', () => {
    const timing = leaseTiming.leaseTiming();
    expect(doc).toContain(`| valid for, after a renewal's send (\`ttl·0.99 − 100\`) | ${leaseTiming.validFor(timing).toLocaleString('en-US')} ms |`);
    const { worst, best } = leaseTiming.outageToleranceMs(timing);
    expect(doc).toContain(`| Redis outage a running room rides out, worst / best case | ${worst.toLocaleString('en-US')} ms / ${best.toLocaleString('en-US')} ms |`);
    expect(doc).toContain(`| renew every (\`ttl/3\`) | ${timing.renewEveryMs.toLocaleString('en-US')} ms |`);
  });
});
