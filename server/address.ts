/**
 * Peer addresses as admission keys: what "one address" means when a limit is shared out per
 * address (QUIC handshakes and connections, pending hellos, live sessions, HTTP connections,
 * dev-ticket minting, chat of dev players, feeds). The one home of this rule: every share keys
 * by `addressKey`.
 *
 * IPv4: the address itself. IPv6: its /64 prefix, since one subscriber usually holds a whole /64
 * (RFC 6177 recommends at least a /64 per end site, and SLAAC hosts pick any address in it at
 * will, RFC 8981): keying by full address would let one host take any number of shares.
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, how a dual-stack socket reports IPv4 peers,
 * RFC 4291 §2.5.5.2) is keyed as the IPv4 address. Pure string work: no node:net here, so the
 * session layer and server/h3 (which imports nothing of the game) may both use it.
 */

/** `host` from `host:port`, `[v6]:port`, `[v6]` or a bare address; '' for nothing. */
export function hostOf(address: string): string {
  const a = address.trim();
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 0 ? a.slice(1, end) : a.slice(1);
  }
  const colon = a.indexOf(':');
  // One colon: IPv4 (or a name) with a port. More: a bare IPv6 address, no port.
  if (colon >= 0 && colon === a.lastIndexOf(':')) return a.slice(0, colon);
  return a;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The 8 groups of an IPv6 address (a trailing dotted IPv4 part counts as two groups), or null. */
function ipv6Groups(text: string): number[] | null {
  let s = text.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone); // fe80::1%eth0: the zone is local, not part of the key
  const v4 = s.match(/:(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    s = `${s.slice(0, v4.index! + 1)}${(b[0] * 256 + b[1]).toString(16)}:${(b[2] * 256 + b[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === '' ? [] : h.split(':'));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups: number[] = [];
  for (const g of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

/**
 * The admission key of a peer address (with or without a port): the IPv4 address, or the /64
 * prefix of an IPv6 one written as `xxxx:xxxx:xxxx:xxxx::/64`. Anything else (a name, '') is
 * returned trimmed as it is, so an unknown format still counts as one address.
 */
export function addressKey(address: string): string {
  const host = hostOf(address);
  const v4 = host.match(IPV4);
  if (v4) return v4.slice(1).map(Number).join('.');
  if (!host.includes(':')) return host;
  const groups = ipv6Groups(host);
  if (!groups) return host.toLowerCase();
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * How many of something each address key holds (handshakes, connections, pending hellos,
 * sessions), and the total: the bookkeeping under every per-address share. An entry exists only
 * while its count is above 0, so the map never holds more keys than there are things counted.
 */
export class AddressCounts {
  private readonly byKey = new Map<string, number>();
  private sum = 0;

  /** Things counted over all keys. */
  get total(): number {
    return this.sum;
  }

  /** Keys holding at least one. */
  get keys(): number {
    return this.byKey.size;
  }

  /** What `key` holds. */
  of(key: string): number {
    return this.byKey.get(key) ?? 0;
  }

  /** One more for `key`. */
  add(key: string): void {
    this.byKey.set(key, this.of(key) + 1);
    this.sum++;
  }

  /** One less for `key`; false (and nothing changes) when it held none. */
  remove(key: string): boolean {
    const n = this.of(key);
    if (n <= 0) return false;
    if (n === 1) this.byKey.delete(key);
    else this.byKey.set(key, n - 1);
    this.sum--;
    return true;
  }
}
