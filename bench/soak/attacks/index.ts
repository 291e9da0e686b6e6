/** Every attack of the soak's mix, by kind (attack-entry.ts runs them; run.ts schedules them). */
import type { Attack } from './attack.js';
import { announcedFrames } from './announced-frames.js';
import { chatFlood } from './chat-flood.js';
import { devTickets } from './dev-tickets.js';
import { garbage } from './garbage.js';
import { idleTcp } from './idle-tcp.js';
import { parkedConnect } from './parked-connect.js';
import { quicInitials } from './quic-initials.js';
import { silentWebSockets } from './silent-websockets.js';
import { uniStreams } from './uni-streams.js';

export const ATTACKS: readonly Attack[] = [
  quicInitials, parkedConnect, silentWebSockets, idleTcp, announcedFrames, devTickets, garbage, chatFlood, uniStreams,
];

export const ATTACK_KINDS: readonly string[] = ATTACKS.map((a) => a.kind);

export function attackOf(kind: string): Attack {
  const a = ATTACKS.find((x) => x.kind === kind);
  if (!a) throw new RangeError(`unknown attack ${kind}; known: ${ATTACK_KINDS.join(', ')}`);
  return a;
}
