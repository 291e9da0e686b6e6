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
