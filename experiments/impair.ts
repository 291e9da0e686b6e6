/**
 * Link impairment on the veth pair, in both directions, with whichever tool the kernel offers:
 *
 * - netem (sch_netem) when present: `tc qdisc replace dev <veth> root netem loss L% delay D J` on
 *   both ends. netem acts on egress, so each end impairs its own sending direction; one-way delay
 *   is half the requested RTT.
 * - otherwise nftables: a `netdev` table in each namespace with an ingress chain on the veth end,
 *   dropping `numgen random mod 10000 < L*100` of IP packets. Ingress (not the output hook) is
 *   deliberate: an output-hook drop returns EPERM to the sender's sendmsg() and TCP treats it as
 *   local congestion, not loss; an ingress drop is indistinguishable from loss on the wire.
 *   nftables can only drop, so delay and jitter are unavailable on this path.
 *
 * Which one was used is reported, with the kernel's own counters of what was dropped.
 */
import { randomBytes } from 'node:crypto';
import { mustRun, runCommand } from './shell.js';
import { NAME_PREFIX, type Topology, type LinkEnd } from './netns.js';

export type ImpairMethod = 'netem' | 'nftables';

/** One network condition. Loss applies to each direction independently. */
export interface Impairment {
  /** Packet loss in percent per direction, 0..100 (resolution 0.01 %). */
  lossPct: number;
  /** Round-trip delay to add in ms (netem only; split evenly across the two directions). */
  rttMs?: number;
  /** Jitter in ms (netem only; per direction). */
  jitterMs?: number;
}

/** nftables table the harness creates inside each namespace (never in the host's namespace). */
export const NFT_TABLE = 'tickwire_impair';
const NFT_CHAIN = 'ingress';
/** numgen modulus: loss is expressed in basis points so 0.5 % or 12.25 % are exact. */
const NFT_MODULUS = 10_000;

/** Kernel counters for one direction, read back from nftables or tc. */
export interface DirectionCounters {
  /** Direction named by who sends: `client->server` is counted at the server's ingress. */
  direction: 'client->server' | 'server->client';
  dropped: number;
  passed: number;
}

/**
 * Find out whether this kernel has netem, by trying it in a throwaway namespace (never on a real
 * interface), named `<namePrefix>probe<hex>` so it carries the run's prefix. The namespace is removed whatever happens.
 */
export async function detectNetem(namePrefix: string = NAME_PREFIX): Promise<boolean> {
  const ns = `${namePrefix}probe${randomBytes(3).toString('hex')}`;
  const add = await runCommand('ip', ['netns', 'add', ns]);
  if (add.code !== 0) return false;
  try {
    await runCommand('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const r = await runCommand('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'loss', '1%']);
    return r.code === 0;
  } finally {
    await runCommand('ip', ['netns', 'del', ns]);
  }
}

function validate(imp: Impairment, method: ImpairMethod): void {
  if (!Number.isFinite(imp.lossPct) || imp.lossPct < 0 || imp.lossPct > 100) {
    throw new Error(`loss must be within 0..100 %, got ${imp.lossPct}`);
  }
  if (method === 'nftables' && ((imp.rttMs ?? 0) > 0 || (imp.jitterMs ?? 0) > 0)) {
    throw new Error('delay/jitter need netem, which this kernel lacks; nftables can only drop packets');
  }
  for (const [k, v] of [['rttMs', imp.rttMs], ['jitterMs', imp.jitterMs]] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || v > 10_000)) throw new Error(`${k} must be within 0..10000 ms, got ${v}`);
  }
}

/** Applies and clears one condition at a time on a topology's veth pair. */
export class LinkImpairer {
  constructor(
    readonly topo: Topology,
    readonly method: ImpairMethod,
  ) {}

  private ends(): Array<{ end: LinkEnd; direction: DirectionCounters['direction'] }> {
    // The server's ingress sees client->server traffic and the reverse on the bot side.
    return [
      { end: this.topo.server, direction: 'client->server' },
      { end: this.topo.client, direction: 'server->client' },
    ];
  }

  /** Replace whatever condition is active with `imp` on both ends. */
  async apply(imp: Impairment): Promise<void> {
    validate(imp, this.method);
    await this.clear();
    if (this.method === 'netem') {
      const oneWay = (imp.rttMs ?? 0) / 2;
      const jitter = imp.jitterMs ?? 0;
      for (const { end } of this.ends()) {
        const args = ['netns', 'exec', end.ns, 'tc', 'qdisc', 'replace', 'dev', end.ifname, 'root', 'netem', 'loss', `${imp.lossPct}%`];
        if (oneWay > 0 || jitter > 0) args.push('delay', `${oneWay}ms`, `${jitter}ms`);
        await mustRun('ip', args);
      }
      return;
    }
    const threshold = Math.round(imp.lossPct * (NFT_MODULUS / 100));
    for (const { end } of this.ends()) {
      const nft = (...a: string[]) => mustRun('ip', ['netns', 'exec', end.ns, 'nft', ...a]);
      await nft('add', 'table', 'netdev', NFT_TABLE);
      await nft('add', 'chain', 'netdev', NFT_TABLE, NFT_CHAIN,
        `{ type filter hook ingress device "${end.ifname}" priority 0; policy accept; }`);
      // Only IP: ARP must keep working or the neighbour cache would add its own stalls.
      if (threshold > 0) {
        await nft('add', 'rule', 'netdev', NFT_TABLE, NFT_CHAIN, 'meta', 'protocol', '{', 'ip', ',', 'ip6', '}',
          'numgen', 'random', 'mod', String(NFT_MODULUS), '<', String(threshold), 'counter', 'drop');
      }
      // A second counter sees what survived, so the report can show the realised drop rate.
      await nft('add', 'rule', 'netdev', NFT_TABLE, NFT_CHAIN, 'meta', 'protocol', '{', 'ip', ',', 'ip6', '}', 'counter');
    }
  }

  /** Remove any impairment (idempotent). */
  async clear(): Promise<void> {
    for (const { end } of this.ends()) {
      if (this.method === 'netem') {
        await runCommand('ip', ['netns', 'exec', end.ns, 'tc', 'qdisc', 'del', 'dev', end.ifname, 'root']);
      } else {
        await runCommand('ip', ['netns', 'exec', end.ns, 'nft', 'delete', 'table', 'netdev', NFT_TABLE]);
      }
    }
  }

  /** Kernel counters since the last `apply`: packets dropped and passed per direction. */
  async counters(): Promise<DirectionCounters[]> {
    const out: DirectionCounters[] = [];
    for (const { end, direction } of this.ends()) {
      if (this.method === 'netem') {
        const r = await runCommand('ip', ['netns', 'exec', end.ns, 'tc', '-s', '-j', 'qdisc', 'show', 'dev', end.ifname]);
        let dropped = 0;
        let passed = 0;
        try {
          const q = (JSON.parse(r.stdout) as Array<{ kind?: string; drops?: number; packets?: number }>).find((x) => x.kind === 'netem');
          dropped = q?.drops ?? 0;
          passed = q?.packets ?? 0;
        } catch {
          // Older tc without -j: leave the counters at zero rather than guess.
        }
        out.push({ direction, dropped, passed });
        continue;
      }
      const r = await runCommand('ip', ['netns', 'exec', end.ns, 'nft', '-j', 'list', 'table', 'netdev', NFT_TABLE]);
      out.push({ direction, ...parseNftCounters(r.stdout) });
    }
    return out;
  }
}

/** Read the drop and pass counters out of `nft -j list table` output. */
export function parseNftCounters(json: string): { dropped: number; passed: number } {
  let dropped = 0;
  let passed = 0;
  try {
    const doc = JSON.parse(json) as { nftables?: Array<{ rule?: { expr?: Array<Record<string, unknown>> } }> };
    for (const item of doc.nftables ?? []) {
      const expr = item.rule?.expr;
      if (!expr) continue;
      const counter = expr.find((e) => 'counter' in e)?.counter as { packets?: number } | undefined;
      if (!counter) continue;
      if (expr.some((e) => 'drop' in e)) dropped += counter.packets ?? 0;
      else passed += counter.packets ?? 0;
    }
  } catch {
    // Table absent (loss cleared) or unparsable: report zeros.
  }
  return { dropped, passed };
}

/** Pick netem when the kernel has it, else nftables. */
export async function chooseMethod(): Promise<ImpairMethod> {
  return (await detectNetem()) ? 'netem' : 'nftables';
}
