/**
 * Where the soak's processes live and which addresses they send from.
 *
 * - `loopback`: every process in this namespace on 127.0.0.0/8. The server listens on 127.0.0.1,
 *   honest bots send from 127.0.1.x, probes from 127.0.3.x, attacks from 127.0.2.x (any
 *   127/8 address is local on Linux). Loss: the server's link simulator on the UDP path only;
 *   WebSocket (TCP on loopback) has none.
 * - `netns` (root): the experiment harness's two namespaces joined by a veth pair
 *   (experiments/netns.ts); the server in one, bots, probes and attacks in the other, each from
 *   an address of its own in SOAK_POOL (added to the bots' end, routed from the server's). Loss:
 *   the link simulator on UDP, and an nftables rule on both veth ends' ingress dropping the
 *   same share of TCP packets (the WebSocket path), at random, counted by the kernel. Ingress,
 *   not output: an output drop returns EPERM to the sender and TCP takes it for local
 *   congestion, not loss (experiments/impair.ts explains the same choice).
 */
import { randomBytes } from 'node:crypto';
import { checkPrerequisites, createTopology, destroyTopology, destroyTopologySync, type Topology } from '../../experiments/netns.js';
import { parseNftCounters } from '../../experiments/impair.js';
import { mustRun, runCommand } from '../../experiments/shell.js';
import type { CleanupStack } from '../../tools/lib/cleanup.js';

export type NetworkMode = 'loopback' | 'netns';

/** Addresses of one role, in order of use. */
export interface AddressPlan {
  /** The server's listening address. */
  server: string;
  /** One per honest bot. */
  bots: string[];
  /** Probe joins rotate over these. */
  probes: string[];
  /** Attack processes take disjoint slices of these. */
  attackers: string[];
}

export interface SoakNetwork {
  mode: NetworkMode;
  addresses: AddressPlan;
  /** Namespace of the server and of the clients (null on loopback). */
  serverNs: string | null;
  clientNs: string | null;
  /** How loss is applied, for the report. */
  lossMethod: string;
  /** Kernel counters of the TCP loss rule (netns only): packets dropped and passed per direction. */
  tcpLossCounters(): Promise<Array<{ direction: string; dropped: number; passed: number }>>;
  /** Removes what setup created (idempotent). */
  teardown(): Promise<void>;
}

/** The client pool behind the bots' veth end in netns mode: 10.99.0.0/16, routed from the server. */
const SOAK_POOL = { prefix: '10.99', routeCidr: '10.99.0.0/16' };
/** nftables table of the TCP loss rule (inside the soak's namespaces only). */
const NFT_TABLE = 'tickwire_soak_loss';
/** Loss in basis points of numgen's modulus (0.01 % resolution). */
const NFT_MODULUS = 10_000;

/** Address `i` (0-based) of a /16-sized pool `a.b`, skipping .0 and .255 in the last octet. */
function poolAddress(ab: string, i: number): string {
  return `${ab}.${Math.floor(i / 254)}.${(i % 254) + 1}`;
}

/** The addresses for `bots`, `probes` and `attackers` clients in `mode`. */
export function planAddresses(mode: NetworkMode, counts: { bots: number; probes: number; attackers: number }, serverAddress = '127.0.0.1'): AddressPlan {
  if (mode === 'loopback') {
    return {
      server: serverAddress,
      bots: Array.from({ length: counts.bots }, (_, i) => poolAddress('127.1', i)),
      attackers: Array.from({ length: counts.attackers }, (_, i) => poolAddress('127.2', i)),
      probes: Array.from({ length: counts.probes }, (_, i) => poolAddress('127.3', i)),
    };
  }
  // netns: one pool, in three consecutive ranges.
  const all = Array.from({ length: counts.bots + counts.probes + counts.attackers }, (_, i) => poolAddress(SOAK_POOL.prefix, i));
  return {
    server: serverAddress,
    bots: all.slice(0, counts.bots),
    probes: all.slice(counts.bots, counts.bots + counts.probes),
    attackers: all.slice(counts.bots + counts.probes),
  };
}

/** True when this process may create network namespaces (root with `ip netns`). */
export async function netnsAvailable(): Promise<boolean> {
  try {
    await checkPrerequisites();
    return true;
  } catch {
    return false;
  }
}

/**
 * Sets the network up. `lossPct` applies to TCP in netns mode (UDP loss is the server's link
 * simulator, configured by the caller). Teardown is registered on `cleanup`.
 */
export async function setupNetwork(
  mode: NetworkMode,
  counts: { bots: number; probes: number; attackers: number },
  lossPct: number,
  cleanup: CleanupStack,
): Promise<SoakNetwork> {
  if (mode === 'loopback') {
    return {
      mode,
      addresses: planAddresses(mode, counts),
      serverNs: null,
      clientNs: null,
      lossMethod: `UDP: server link simulator ${lossPct} %; TCP (WebSocket): none on loopback`,
      tcpLossCounters: async () => [],
      teardown: async () => undefined,
    };
  }
  await checkPrerequisites();
  // 'tw' + 'soak' + 4 hex: the experiment harness's naming rule, and our worktree's name in it.
  const topo: Topology = await createTopology(`twsoak${randomBytes(2).toString('hex')}`);
  const untrack = cleanup.push({ label: `namespaces ${topo.prefix}`, run: () => destroyTopology(topo), runSync: () => destroyTopologySync(topo) });
  const addresses = planAddresses(mode, counts, topo.server.address);
  try {
    const clientAddrs = [...addresses.bots, ...addresses.probes, ...addresses.attackers];
    // One `ip -batch` for hundreds of addresses instead of one process each.
    const batch = clientAddrs.map((a) => `addr add ${a}/32 dev ${topo.client.ifname}`).join('\n');
    await runBatch(topo.client.ns, batch);
    await mustRun('ip', ['-n', topo.server.ns, 'route', 'add', SOAK_POOL.routeCidr, 'via', topo.client.address, 'dev', topo.server.ifname]);
    const threshold = Math.round(lossPct * (NFT_MODULUS / 100));
    for (const end of [topo.server, topo.client]) {
      const nft = (...a: string[]) => mustRun('ip', ['netns', 'exec', end.ns, 'nft', ...a]);
      await nft('add', 'table', 'netdev', NFT_TABLE);
      await nft('add', 'chain', 'netdev', NFT_TABLE, 'ingress', `{ type filter hook ingress device "${end.ifname}" priority 0; policy accept; }`);
      // TCP only: UDP loss is the server's link simulator, so WebTransport is not impaired twice.
      if (threshold > 0) await nft('add', 'rule', 'netdev', NFT_TABLE, 'ingress', 'meta', 'protocol', 'ip', 'ip', 'protocol', 'tcp', 'numgen', 'random', 'mod', String(NFT_MODULUS), '<', String(threshold), 'counter', 'drop');
      await nft('add', 'rule', 'netdev', NFT_TABLE, 'ingress', 'meta', 'protocol', 'ip', 'ip', 'protocol', 'tcp', 'counter');
    }
  } catch (err) {
    await destroyTopology(topo);
    untrack();
    throw err;
  }
  return {
    mode,
    addresses,
    serverNs: topo.server.ns,
    clientNs: topo.client.ns,
    lossMethod: `UDP: server link simulator ${lossPct} %; TCP (WebSocket): nftables ingress drop ${lossPct} % on both veth ends`,
    async tcpLossCounters() {
      const out: Array<{ direction: string; dropped: number; passed: number }> = [];
      for (const [end, direction] of [[topo.server, 'client->server'], [topo.client, 'server->client']] as const) {
        const r = await runCommand('ip', ['netns', 'exec', end.ns, 'nft', '-j', 'list', 'table', 'netdev', NFT_TABLE]);
        out.push({ direction, ...parseNftCounters(r.stdout) });
      }
      return out;
    },
    async teardown() {
      await destroyTopology(topo);
      untrack();
    },
  };
}

/** Runs `ip -n ns -batch -` with `commands` on stdin. */
async function runBatch(ns: string, commands: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('ip', ['-n', ns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ip -batch failed (exit ${code}): ${err.trim()}`))));
    p.stdin.end(commands);
  });
}
