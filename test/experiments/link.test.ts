/**
 * The link itself, without the game: namespaces and veth come and go cleanly, and the configured
 * nftables/netem loss shows up as that much real UDP loss in each direction, while TCP still
 * delivers every byte.
 */
import { describe, it, expect } from 'vitest';
import { createTopology, destroyTopology, findLeftovers, isClean, listNamespaces, netnsTag, newRunPrefix } from '../../experiments/netns.js';
import { mustRun } from '../../experiments/shell.js';
import { LinkImpairer, chooseMethod } from '../../experiments/impair.js';
import { probeLoss } from '../../experiments/loss-probe.js';
import { canRunNetnsTests } from './can-run.js';

const decision = await canRunNetnsTests();

/**
 * 4000 probes per direction at p = 0.10: sigma = sqrt(p(1-p)/n) ~ 0.47 points, so the band
 * 10 +/- 3 points is more than 6 sigma wide: it fails on a broken impairment, not on chance.
 */
const PROBES = 4000;
const TOLERANCE_POINTS = 3;
/** Echo processes at real-time priority: other tests' CPU load must not look like link loss. */
const RT = 10;

describe.skipIf(!decision.run)('experiment link (netns + veth + impairment)', () => {
  it('measures ~10% loss each way at 10% configured, 0% unimpaired, and leaves nothing behind', async () => {
    const method = await chooseMethod();
    const topo = await createTopology(newRunPrefix(netnsTag(process.env)));
    try {
      const impairer = new LinkImpairer(topo, method);

      const clean = await probeLoss(topo, impairer, { udpProbes: PROBES, tcpBytes: 100_000, realtime: RT });
      expect(clean.udp.upLossPct).toBe(0);
      expect(clean.udp.downLossPct).toBe(0);
      expect(clean.udp.duplicates).toBe(0);
      expect(clean.tcp?.ok).toBe(true);

      await impairer.apply({ lossPct: 10 });
      const lossy = await probeLoss(topo, impairer, { udpProbes: PROBES, tcpBytes: 300_000, realtime: RT });
      expect(Math.abs(lossy.udp.upLossPct - 10)).toBeLessThan(TOLERANCE_POINTS);
      expect(Math.abs(lossy.udp.downLossPct - 10)).toBeLessThan(TOLERANCE_POINTS);
      expect(lossy.udp.duplicates).toBe(0);
      // TCP retransmits through the loss: every byte arrives, intact (checked by sha256).
      expect(lossy.tcp).toMatchObject({ ok: true, bytes: 300_000 });
      // The kernel counted drops in both directions.
      for (const dir of lossy.kernel) expect(dir.dropped).toBeGreaterThan(0);

      await impairer.clear();
      const after = await probeLoss(topo, impairer, { udpProbes: 500, tcpBytes: 10_000, realtime: RT });
      expect(after.udp.upLossPct + after.udp.downLossPct).toBe(0);
    } finally {
      await destroyTopology(topo);
    }
    const left = await findLeftovers(topo.prefix);
    expect(left).toEqual({ namespaces: [], links: [], nftTables: [] });
    expect(isClean(left)).toBe(true);
  }, 120_000);

  it('removes what it created, and only that, when setup fails halfway', async () => {
    // Occupy the bot-side name first: setup fails after creating the server namespace, which
    // must be gone afterwards, while the namespace it did not create stays.
    const prefix = newRunPrefix();
    await mustRun('ip', ['netns', 'add', `${prefix}-bot`]);
    try {
      await expect(createTopology(prefix)).rejects.toThrow(/netns add/);
      expect(await listNamespaces()).not.toContain(`${prefix}-srv`);
      expect(await listNamespaces()).toContain(`${prefix}-bot`);
    } finally {
      await mustRun('ip', ['netns', 'del', `${prefix}-bot`]);
    }
    expect(isClean(await findLeftovers(prefix))).toBe(true);
  });

  it('refuses a prefix that would make an over-long interface name', async () => {
    await expect(createTopology('twtoolongname1')).rejects.toThrow(/bad run prefix/);
  });
});
