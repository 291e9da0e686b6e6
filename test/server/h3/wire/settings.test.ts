import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeSettings, encodeSettings, encodeSettingsFrame, SERVER_SETTINGS, webTransportSupport, MAX_SETTINGS_ENTRIES,
} from '../../../../server/h3/wire/settings.js';
import { FrameDecoder, FRAME_SETTINGS } from '../../../../server/h3/wire/frames.js';
import { H3_FRAME_ERROR, H3_SETTINGS_ERROR } from '../../../../server/h3/wire/errors.js';

describe('SETTINGS (RFC 9114 §7.2.4)', () => {
  it('the server sends exactly the checked settings, in order', () => {
    expect(SERVER_SETTINGS.map(([id, v]) => [id.toString(16), v])).toEqual([
      ['1', 0], ['7', 0], ['8', 1], ['33', 1], ['2b603742', 1], ['c671706a', 16],
    ]);
    const frame = encodeSettingsFrame(SERVER_SETTINGS);
    const d = new FrameDecoder();
    d.push(frame);
    const e = d.next();
    expect(e.status === 'frame' && e.type === FRAME_SETTINGS).toBe(true);
    const s = decodeSettings((e as { payload: Uint8Array }).payload);
    expect(s.status).toBe('ok');
    if (s.status !== 'ok') return;
    expect([...s.values]).toEqual(SERVER_SETTINGS.map(([a, b]) => [a, b]));
    expect(webTransportSupport(s.values)).toEqual({
      draft02: true, draft07: true, datagrams: true, extendedConnect: true, qpackMaxTableCapacity: 0, maxFieldSectionSize: Infinity,
    });
  });

  it('decodes what Chromium sends, ignoring a GREASE id above 2^53', () => {
    const grease = 0x1fn * 0x3ffffffffffffn + 0x21n; // a reserved id of the form 0x1f*N+0x21, > 2^53
    const payload = encodeSettings([[1, 65536], [6, 16384], [7, 100], [0x33, 1], [0xffd277, 1], [0x2b603742, 1], [grease, 0x1234], [0xc671706a, 16]]);
    const s = decodeSettings(payload);
    expect(s.status).toBe('ok');
    if (s.status !== 'ok') return;
    expect(s.ignored).toBe(1);
    expect(s.values.get(6)).toBe(16384);
    expect(webTransportSupport(s.values)).toMatchObject({ draft02: true, draft07: true, datagrams: true, extendedConnect: false, maxFieldSectionSize: 16384 });
  });

  // SETTINGS payloads recorded from real browsers against our server on this machine.
  it.each([
    ['Chromium 156 (default draft)', '01800100000680004000074064330180ffd27701ab60374201c000001aa3580478c00000009b236efa', false, 1],
    ['Chromium 156 (draft-07)', '01800100000680004000074064330180ffd27701ab60374201c0000000c671706a10c000000ebc36a3cfb3f82aa4', true, 1],
    ['Firefox ESR 153', '01800100000714ab6037420180ffd2770133010801', false, 0],
  ] as const)('decodes what %s sends', (_name, hex, draft07, greaseCount) => {
    const s = decodeSettings(Uint8Array.from(Buffer.from(hex, 'hex')));
    expect(s.status).toBe('ok');
    if (s.status !== 'ok') return;
    expect(s.values.get(0x01)).toBe(65536);
    expect(webTransportSupport(s.values)).toMatchObject({ draft02: true, draft07, datagrams: true });
    // Chromium adds one GREASE setting (RFC 9114 §7.2.4.1: id 0x1f*N+0x21), which we ignore.
    const unknown = [...s.values.keys()].filter((k) => ![0x01, 0x06, 0x07, 0x08, 0x33, 0xffd277, 0x2b603742, 0xc671706a].includes(k));
    for (const k of unknown) expect((k - 0x21) % 0x1f).toBe(0);
    expect(unknown.length + s.ignored).toBe(greaseCount);
  });

  it('saturates huge values of known settings', () => {
    const s = decodeSettings(encodeSettings([[6, 2n ** 62n - 1n]]));
    expect(s.status === 'ok' && s.values.get(6) === Number.MAX_SAFE_INTEGER).toBe(true);
  });

  it.each([
    ['duplicate id', [[1, 0], [1, 0]], H3_SETTINGS_ERROR],
    ['duplicate GREASE id', [[2n ** 60n, 0], [2n ** 60n, 1]], H3_SETTINGS_ERROR],
    ['HTTP/2 ENABLE_PUSH', [[2, 0]], H3_SETTINGS_ERROR],
    ['HTTP/2 MAX_CONCURRENT_STREAMS', [[3, 100]], H3_SETTINGS_ERROR],
    ['HTTP/2 INITIAL_WINDOW_SIZE', [[4, 100]], H3_SETTINGS_ERROR],
    ['HTTP/2 MAX_FRAME_SIZE', [[5, 100]], H3_SETTINGS_ERROR],
    ['H3_DATAGRAM=2', [[0x33, 2]], H3_SETTINGS_ERROR],
    ['ENABLE_CONNECT_PROTOCOL=7', [[8, 7]], H3_SETTINGS_ERROR],
  ] as const)('rejects %s', (_name, entries, code) => {
    expect(decodeSettings(encodeSettings(entries as unknown as [number, number][]))).toMatchObject({ status: 'error', code });
  });

  it('rejects a truncated entry as H3_FRAME_ERROR and too many entries as H3_SETTINGS_ERROR', () => {
    expect(decodeSettings(Uint8Array.of(1))).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
    expect(decodeSettings(Uint8Array.of(1, 0x40))).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
    const many = Array.from({ length: MAX_SETTINGS_ENTRIES + 1 }, (_, i) => [0x100 + i, 0] as [number, number]);
    expect(decodeSettings(encodeSettings(many))).toMatchObject({ status: 'error', code: H3_SETTINGS_ERROR });
    expect(decodeSettings(encodeSettings(many.slice(1))).status).toBe('ok');
  });

  it('accepts an empty SETTINGS frame', () => {
    expect(decodeSettings(new Uint8Array(0))).toEqual({ status: 'ok', values: new Map(), ignored: 0 });
  });

  it('round-trips distinct safe settings (property)', () => {
    const id = fc.maxSafeNat().filter((n) => n < 2 || n > 5);
    fc.assert(fc.property(fc.uniqueArray(id, { maxLength: 20 }), fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 20, maxLength: 20 }), (ids, vals) => {
      const entries = ids.map((k, i) => [k, vals[i]] as [number, number]);
      const s = decodeSettings(encodeSettings(entries));
      expect(s.status).toBe('ok');
      if (s.status === 'ok') expect([...s.values]).toEqual(entries);
    }), { numRuns: 500 });
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      const s = decodeSettings(b);
      expect(['ok', 'error']).toContain(s.status);
    }), { numRuns: 3000 });
  });
});
