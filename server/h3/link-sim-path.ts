/**
 * Puts the seeded link simulator (server/h3/netsim.ts) on an endpoint's UDP path, both
 * directions. On a server, packets from clients travel `up`, packets to clients travel `down`;
 * a client endpoint uses the opposite mapping.
 */
import type { Host } from '@matrixai/quic/native/index.js';
import type { PacketPath } from './quic/endpoint.js';
import { LinkSimulator, systemNetsimClock, type LinkDirectionStats, type NetsimClock } from './netsim.js';
import { parseLinkSpec, type LinkConfig } from './link-config.js';

/** A netsim spec string ("loss=0.05,delay=40,jitter=10") or a parsed `LinkConfig`. */
export type LinkSimOption = string | LinkConfig;

/** Default seed when none is given: runs are reproducible unless asked otherwise. */
export const DEFAULT_LINK_SIM_SEED = 1;

export interface LinkSimPath extends PacketPath {
  stats(): Record<'up' | 'down', LinkDirectionStats>;
}

/**
 * Builds the packet path. Throws (at startup, not per packet) on an invalid spec, naming the
 * offending entry.
 */
export function createLinkSimPath(option: LinkSimOption, role: 'server' | 'client', clock: NetsimClock = systemNetsimClock(), seed = DEFAULT_LINK_SIM_SEED): LinkSimPath {
  let config: LinkConfig;
  if (typeof option === 'string') {
    const parsed = parseLinkSpec(option);
    if (!parsed.ok) throw new Error(parsed.error);
    config = parsed.config;
  } else {
    config = option;
  }
  // Due packets are handed over synchronously (no zero-delay timer hop): both callbacks below
  // are safe to re-enter (a socket send, and the packet handler the socket would call anyway).
  const sim = new LinkSimulator(config, { ...clock, seed, immediate: true });
  const inDir = role === 'server' ? 'up' : 'down';
  const outDir = role === 'server' ? 'down' : 'up';
  return {
    inbound(packet: Uint8Array, from: Host, deliver: (p: Uint8Array, from: Host) => void): void {
      sim.send(inDir, packet, (p) => deliver(p, from));
    },
    outbound(packet: Uint8Array, to: Host, deliver: (p: Uint8Array, to: Host) => void): void {
      sim.send(outDir, packet, (p) => deliver(p, to));
    },
    close(): void {
      sim.close();
    },
    stats() {
      return sim.stats();
    },
  };
}
