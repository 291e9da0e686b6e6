import { describe, expect, it } from 'vitest';
import { HUD_KEYS, HUD_LABELS, formatHud, transportLabel } from '../../../client/game/hud-model.js';

describe('formatHud', () => {
  it('formats every field', () => {
    expect(formatHud({ transport: 'webtransport', rttMs: 3.24, snapshotsPerSec: 19.96, loss: 0.0512, downBytesPerSec: 4210, interpDelayMs: 150.4, players: 2, node: 'node-2' })).toEqual({
      transport: 'WebTransport', rtt: '3.2 ms', rate: '20.0 /s', loss: '5.1 %', down: '4.2 kB/s', interp: '150 ms', players: '2', node: 'node-2',
    });
  });
  it('shows dashes for what is unknown', () => {
    const t = formatHud({ transport: null, rttMs: null, snapshotsPerSec: 0, loss: 0, downBytesPerSec: 0, interpDelayMs: 0, players: 0, node: null });
    expect(t.transport).toBe('–');
    expect(t.rtt).toBe('–');
    expect(t.node).toBe('–');
    expect(formatHud({ transport: 'websocket', rttMs: 123.6, snapshotsPerSec: 0, loss: 0, downBytesPerSec: 0, interpDelayMs: 0, players: 0, node: null }).rtt).toBe('124 ms');
  });
  it.each([['webtransport', 'WebTransport'], ['websocket', 'WebSocket'], [null, '–']] as const)('%s -> %s', (k, label) => {
    expect(transportLabel(k)).toBe(label);
  });
});

describe('HUD_LABELS', () => {
  it('has one labelled row for every field formatHud writes, in the order the HUD shows them', () => {
    const t = formatHud({ transport: null, rttMs: null, snapshotsPerSec: 0, loss: 0, downBytesPerSec: 0, interpDelayMs: 0, players: 0, node: null });
    expect([...HUD_KEYS].sort()).toEqual(Object.keys(t).sort());
    expect(HUD_KEYS).toEqual(['transport', 'rtt', 'rate', 'loss', 'down', 'interp', 'players', 'node']);
    for (const k of HUD_KEYS) expect(HUD_LABELS[k]).toMatch(/\S/);
    expect(new Set(Object.values(HUD_LABELS)).size).toBe(HUD_KEYS.length);
  });
});
