/**
 * Datagrams the kernel dropped for a UDP socket, mostly because its receive buffer was full:
 * the one loss on our path that no counter of ours can see, since the packets never reach the
 * process. It is the first symptom of a server that cannot keep up: in the standard-scene
 * benchmark at P=384 over WebTransport the kernel counted tens of thousands of receive-buffer
 * drops (/proc/net/snmp RcvbufErrors), a third of the inputs never arrived, and every
 * application counter looked clean.
 *
 * Linux only: the `drops` column of /proc/net/udp and /proc/net/udp6 (one line per socket in
 * this network namespace, as the kernel's udp4_format_sock writes it). Elsewhere the reader
 * answers null.
 */
import { readFileSync } from 'node:fs';

const PROC_FILES = ['/proc/net/udp', '/proc/net/udp6'];

/**
 * Sum of the `drops` column over the sockets of `text` (a /proc/net/udp or udp6 listing) whose
 * local port is `port`, or null when the text has no such socket or is not such a listing. Pure.
 */
export function udpDropsForPort(text: string, port: number): number | null {
  const lines = text.split('\n');
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  // The header names more columns than a row has fields ("tx_queue rx_queue" is one field), so
  // `drops` is found as the last field of each row rather than by the header's position.
  if (header[1] !== 'local_address' || header[header.length - 1] !== 'drops') return null;
  let total: number | null = null;
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    if (fields.length < 4) continue;
    // local_address is HEXIP:HEXPORT (the IP in the kernel's byte order, the port big-endian hex).
    const local = fields[1];
    const colon = local.lastIndexOf(':');
    if (colon < 0 || Number.parseInt(local.slice(colon + 1), 16) !== port) continue;
    const drops = Number(fields[fields.length - 1]);
    if (!Number.isFinite(drops)) continue;
    total = (total ?? 0) + drops;
  }
  return total;
}

/**
 * Kernel drops of the UDP sockets bound to `port` in this network namespace, IPv4 and IPv6
 * together; null where /proc/net/udp cannot be read (not Linux) or no socket has that port.
 * Reads two small files: call it at scrape or report time, not per packet.
 */
export function readUdpDrops(port: number, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number | null {
  let total: number | null = null;
  for (const path of PROC_FILES) {
    let text: string;
    try {
      text = read(path);
    } catch {
      continue;
    }
    const n = udpDropsForPort(text, port);
    if (n !== null) total = (total ?? 0) + n;
  }
  return total;
}
