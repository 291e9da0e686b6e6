/**
 * TCP congestion control per network namespace. `net.ipv4.tcp_congestion_control` is a
 * per-namespace sysctl (since Linux 4.15); a new namespace starts with the host's default, which
 * on our machines is BBR, while typical clients run CUBIC. The WebSocket arm rides TCP, so the
 * experiment sets it explicitly and reports what the kernel reads back. QUIC's congestion
 * control is quiche's own and is not affected.
 *
 * One catch: a namespace other than the host's may only pick an algorithm listed in
 * `net.ipv4.tcp_allowed_congestion_control` (tcp_set_default_congestion_control() in
 * net/ipv4/tcp_cong.c returns EPERM otherwise), and that list is global, writable only from the
 * host's namespace. Here it reads "reno bbr", so CUBIC needs adding to it. That is the one
 * host-wide change this module makes: it only widens which algorithms unprivileged sockets and
 * other namespaces may choose, never the host's own default, and it is reported. It is not
 * undone afterwards, since a concurrent run may rely on it and it changes nothing by itself.
 */
import { runCommand } from '../shell.js';
import { ConditionError, TCP_CONGESTION, type TcpCongestion } from './params.js';

const AVAILABLE = 'net.ipv4.tcp_available_congestion_control';
const ALLOWED = 'net.ipv4.tcp_allowed_congestion_control';
const CURRENT = 'net.ipv4.tcp_congestion_control';

async function sysctlRead(ns: string | null, key: string): Promise<string> {
  const r = ns ? await runCommand('ip', ['netns', 'exec', ns, 'sysctl', '-n', key]) : await runCommand('sysctl', ['-n', key]);
  if (r.code !== 0) throw new Error(`reading ${key}${ns ? ` in ${ns}` : ''} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

/** The algorithms this kernel offers (built in or loaded). */
export async function availableCongestionControls(ns: string): Promise<string[]> {
  return words(await sysctlRead(ns, AVAILABLE));
}

/** The algorithm new TCP sockets in `ns` use. */
export async function tcpCongestionOf(ns: string): Promise<string> {
  return sysctlRead(ns, CURRENT);
}

/** What `setTcpCongestion` did. */
export interface TcpCongestionResult {
  /** As the kernel reads it back in the namespace. */
  algorithm: string;
  /** Set when the host's allowed list had to be widened (see the header). */
  hostAllowedChanged: { before: string; after: string } | null;
}

/** Add `cc` to the host's allowed list if it is missing; returns the change made, if any. */
async function allowOnHost(cc: string): Promise<TcpCongestionResult['hostAllowedChanged']> {
  const before = await sysctlRead(null, ALLOWED);
  if (words(before).includes(cc)) return null;
  const after = [...words(before), cc].join(' ');
  const r = await runCommand('sysctl', ['-q', '-w', `${ALLOWED}=${after}`]);
  if (r.code !== 0) throw new Error(`adding ${cc} to the host's ${ALLOWED} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return { before, after: await sysctlRead(null, ALLOWED) };
}

/**
 * Set `cc` for new TCP sockets in `ns` and return what the kernel reads back. Throws a clear
 * error for an unknown name or one this kernel does not offer.
 */
export async function setTcpCongestion(ns: string, cc: TcpCongestion): Promise<TcpCongestionResult> {
  if (!TCP_CONGESTION.includes(cc)) throw new ConditionError(`tcpCongestion must be one of ${TCP_CONGESTION.join(', ')}, got ${JSON.stringify(cc)}`);
  const available = await availableCongestionControls(ns);
  if (!available.includes(cc)) {
    throw new Error(`TCP congestion control ${cc} is not available in this kernel (${AVAILABLE} = ${available.join(' ')})`);
  }
  const hostAllowedChanged = await allowOnHost(cc);
  const r = await runCommand('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${CURRENT}=${cc}`]);
  if (r.code !== 0) throw new Error(`setting ${CURRENT}=${cc} in ${ns} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const algorithm = await tcpCongestionOf(ns);
  if (algorithm !== cc) throw new Error(`${CURRENT} in ${ns} reads ${algorithm} after setting ${cc}`);
  return { algorithm, hostAllowedChanged };
}
