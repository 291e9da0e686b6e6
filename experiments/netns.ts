/**
 * Two network namespaces joined by one veth pair: the server lives in one, the bots in the other,
 * so every packet between them crosses a link the harness can impair. Everything is created with
 * a unique per-run prefix and only inside the two new namespaces: the veth ends are created
 * directly in them (`ip link add ... netns A type veth peer ... netns B`), the addresses are a /30
 * that exists only there, and no interface of the host is touched. Deleting a namespace destroys
 * its veth end, which destroys the pair.
 */
import { randomBytes } from 'node:crypto';
import { mustRun, runCommand, runCommandSync } from './shell.js';

/** Exit code the CLI uses when the machine cannot run the harness (not root, no `ip netns`). */
export const EXIT_ENVIRONMENT = 3;

/** Raised when the harness cannot run here; `message` says plainly what is missing. */
export class EnvironmentError extends Error {
  readonly exitCode = EXIT_ENVIRONMENT;
}

/** Every namespace and interface the harness makes starts with this, then a per-run id. */
export const NAME_PREFIX = 'tw';

/** One side of the link. */
export interface LinkEnd {
  /** Network namespace name, e.g. `tw3fa9c1-srv`. */
  ns: string;
  /** The veth end inside that namespace (<= 15 chars, the kernel's IFNAMSIZ - 1). */
  ifname: string;
  /** IPv4 address on that end, inside the /30. */
  address: string;
}

export interface Topology {
  /** Unique per-run id, the common start of every name created. */
  prefix: string;
  server: LinkEnd;
  client: LinkEnd;
  /** Always 30: exactly two usable hosts. */
  prefixLength: 30;
}

/**
 * Environment variable naming a short tag (1-5 of [a-z0-9]) that goes between `tw` and the random
 * digits of every run's names, e.g. `twds3fa9c1`: people (or agents) sharing a machine can tell
 * their namespaces apart at a glance and clean up only their own.
 */
export const NETNS_TAG_ENV = 'TICKWIRE_NETNS_TAG';

/** The tag from NETNS_TAG_ENV in `env` (the CLIs and tests pass process.env), checked; '' when unset. */
export function netnsTag(env: Readonly<Record<string, string | undefined>>): string {
  const tag = env[NETNS_TAG_ENV] ?? '';
  if (tag !== '' && !/^[a-z0-9]{1,5}$/.test(tag)) {
    throw new EnvironmentError(`${NETNS_TAG_ENV} must be 1-5 characters of [a-z0-9], got ${JSON.stringify(tag)}`);
  }
  return tag;
}

/** A fresh id like `tw3fa9c1` (or `twds3fa9c1` with a tag): short enough that `<id>-s` fits an interface name. */
export function newRunPrefix(tag = ''): string {
  return `${NAME_PREFIX}${tag}${randomBytes(3).toString('hex')}`;
}

/**
 * Check that this process may create namespaces: it must be root and `ip netns` must work.
 * Throws an `EnvironmentError` with a plain message otherwise.
 */
export async function checkPrerequisites(): Promise<void> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid !== 0) {
    throw new EnvironmentError(
      'the experiment harness needs root: it creates network namespaces, a veth pair and nftables rules. ' +
        'Run it as root (e.g. `sudo npm run experiment -- ...`).',
    );
  }
  const ip = await runCommand('ip', ['netns', 'list']);
  if (ip.code !== 0) {
    throw new EnvironmentError(
      `\`ip netns\` is not available here (exit ${ip.code}: ${ip.stderr.trim() || 'no output'}); ` +
        'install iproute2 and run on a kernel with network namespaces.',
    );
  }
}

/** Pick a random /30 inside 10.200.0.0/13; it only ever exists inside the two namespaces. */
function randomSubnet(): { server: string; client: string } {
  const b = randomBytes(3);
  const second = 200 + (b[0] % 8);
  const third = b[1];
  const base = (b[2] % 64) * 4;
  return { server: `10.${second}.${third}.${base + 1}`, client: `10.${second}.${third}.${base + 2}` };
}

/**
 * Create the two namespaces and the veth pair, address and raise both ends. On any failure it
 * removes what it made before throwing.
 */
export async function createTopology(prefix: string = newRunPrefix()): Promise<Topology> {
  if (!prefix.startsWith(NAME_PREFIX) || prefix.length > 13 || !/^[a-z0-9]+$/.test(prefix)) {
    throw new Error(`bad run prefix ${JSON.stringify(prefix)}: want ${NAME_PREFIX} + up to 11 [a-z0-9]`);
  }
  const addr = randomSubnet();
  const topo: Topology = {
    prefix,
    server: { ns: `${prefix}-srv`, ifname: `${prefix}-s`, address: addr.server },
    client: { ns: `${prefix}-bot`, ifname: `${prefix}-b`, address: addr.client },
    prefixLength: 30,
  };
  // Only what this call created is removed on failure: a same-named namespace that already
  // existed (another run, or a person's) is left alone.
  const created: string[] = [];
  try {
    for (const end of [topo.server, topo.client]) {
      await mustRun('ip', ['netns', 'add', end.ns]);
      created.push(end.ns);
    }
    // Both ends are born inside their namespaces: the host's namespace never sees them.
    await mustRun('ip', [
      'link', 'add', 'name', topo.server.ifname, 'netns', topo.server.ns, 'type', 'veth',
      'peer', 'name', topo.client.ifname, 'netns', topo.client.ns,
    ]);
    for (const end of [topo.server, topo.client]) {
      await mustRun('ip', ['-n', end.ns, 'link', 'set', 'lo', 'up']);
      // veth passes TSO/GSO "super-packets" of up to 64 kB as one unit; dropping one would drop
      // dozens of TCP segments at once and overstate loss for the TCP arm. Capping GSO at one
      // MTU makes every skb on the link one wire-sized packet, as on a real NIC.
      await mustRun('ip', ['-n', end.ns, 'link', 'set', 'dev', end.ifname, 'gso_max_size', '1500', 'gso_max_segs', '1']);
      await mustRun('ip', ['-n', end.ns, 'addr', 'add', `${end.address}/30`, 'dev', end.ifname]);
      await mustRun('ip', ['-n', end.ns, 'link', 'set', 'dev', end.ifname, 'up']);
    }
  } catch (err) {
    for (const ns of created) await deleteNamespace(ns);
    throw err;
  }
  return topo;
}

/** Kill whatever still runs inside our namespace (only processes this run started live there). */
async function killNamespacePids(ns: string): Promise<void> {
  const r = await runCommand('ip', ['netns', 'pids', ns]);
  if (r.code !== 0) return;
  for (const line of r.stdout.split('\n')) {
    const pid = Number(line.trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

async function deleteNamespace(ns: string): Promise<void> {
  if (!(await namespaceExists(ns))) return;
  await killNamespacePids(ns);
  const r = await runCommand('ip', ['netns', 'del', ns]);
  if (r.code !== 0 && (await namespaceExists(ns))) {
    throw new Error(`ip netns del ${ns} failed: ${r.stderr.trim()}`);
  }
}

/** Remove both namespaces (and with them the veth pair and any nftables tables inside). Idempotent. */
export async function destroyTopology(topo: Topology): Promise<void> {
  for (const end of [topo.server, topo.client]) await deleteNamespace(end.ns);
}

/** Synchronous teardown for the process `exit` event. */
export function destroyTopologySync(topo: Topology): void {
  for (const end of [topo.server, topo.client]) {
    runCommandSync('ip', ['netns', 'del', end.ns]);
  }
}

async function namespaceExists(ns: string): Promise<boolean> {
  return (await listNamespaces()).includes(ns);
}

/** Names from `ip netns list` (its lines look like `name (id: 3)` or just `name`). */
export async function listNamespaces(): Promise<string[]> {
  const r = await runCommand('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => !!n);
}

/** What a run with this prefix left behind, looked at from the host: namespaces, links, nft tables. */
export interface Leftovers {
  namespaces: string[];
  links: string[];
  nftTables: string[];
}

/**
 * Look for anything carrying `prefix` (default: any harness run) in the host's namespaces list,
 * the host's links and the host's nftables ruleset. Empty lists mean the run cleaned up.
 */
export async function findLeftovers(prefix: string = NAME_PREFIX): Promise<Leftovers> {
  const namespaces = (await listNamespaces()).filter((n) => n.startsWith(prefix));
  const linkOut = await runCommand('ip', ['-o', 'link', 'show']);
  const links = linkOut.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n && n.startsWith(prefix));
  const nftOut = await runCommand('nft', ['list', 'tables']);
  const nftTables = nftOut.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(prefix) || l.includes('tickwire'));
  return { namespaces, links, nftTables };
}

/** True when `findLeftovers` found nothing. */
export function isClean(l: Leftovers): boolean {
  return l.namespaces.length === 0 && l.links.length === 0 && l.nftTables.length === 0;
}
