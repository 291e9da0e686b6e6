/** The HUD's numbers and their text, separate from the DOM so they can be tested. */

export interface HudValues {
  transport: 'webtransport' | 'websocket' | null;
  rttMs: number | null;
  snapshotsPerSec: number;
  /** Share of snapshots lost over the rate window, 0..1. */
  loss: number;
  downBytesPerSec: number;
  interpDelayMs: number;
  players: number;
  /** The cluster node running the room (welcome.nodeId), or null on a single server. */
  node: string | null;
}

export interface HudText {
  transport: string;
  rtt: string;
  rate: string;
  loss: string;
  down: string;
  interp: string;
  players: string;
  node: string;
}

/**
 * The HUD's rows: the label of each field, in the order shown. It is the one definition of the
 * HUD: both pages (index.html, watch.html) hold only a container that client/ui/hud.ts fills from
 * it, so a field cannot be missing from one page (the watch page once lacked the node line and
 * threw). `satisfies` makes a new HudText field a compile error until it has its row.
 */
export const HUD_LABELS = {
  transport: 'transport',
  rtt: 'RTT',
  rate: 'snapshots',
  loss: 'loss',
  down: 'download',
  interp: 'interp delay',
  players: 'players',
  node: 'node',
} as const satisfies Record<keyof HudText, string>;

/** The HUD's fields in the order shown (HUD_LABELS). */
export const HUD_KEYS = Object.keys(HUD_LABELS) as ReadonlyArray<keyof HudText>;

/** Human label of a transport kind, as the HUD and `window.tickwire.transportLabel` show it. */
export function transportLabel(t: HudValues['transport']): string {
  return t === 'webtransport' ? 'WebTransport' : t === 'websocket' ? 'WebSocket' : '–';
}

export function formatHud(v: HudValues): HudText {
  return {
    transport: transportLabel(v.transport),
    rtt: v.rttMs === null || !Number.isFinite(v.rttMs) ? '–' : `${v.rttMs < 10 ? v.rttMs.toFixed(1) : Math.round(v.rttMs)} ms`,
    rate: `${v.snapshotsPerSec.toFixed(1)} /s`,
    loss: `${(v.loss * 100).toFixed(1)} %`,
    down: `${(v.downBytesPerSec / 1000).toFixed(1)} kB/s`,
    interp: `${Math.round(v.interpDelayMs)} ms`,
    players: String(v.players),
    node: v.node ?? '–',
  };
}
