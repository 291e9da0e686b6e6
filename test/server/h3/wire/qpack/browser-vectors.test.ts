/**
 * Recorded CONNECT header blocks: the exact HEADERS payloads Debian's Chromium 156 (default draft
 * and --enable-features=EnableWebTransportDraft07 sent the same bytes) and Firefox ESR 153 sent
 * to our server on this machine. Both use static-table references, Huffman-coded values and
 * Huffman-coded literal names (`:protocol`, `sec-webtransport-http3-draft02`, `sec-fetch-*`).
 */
import { describe, expect, it } from 'vitest';
import { decodeFieldSection } from '../../../../../server/h3/wire/qpack/index.js';
import { validateConnectRequest } from '../../../../../server/h3/wire/connect-request.js';
import { H3_EXCESSIVE_LOAD, QPACK_DECOMPRESSION_FAILED } from '../../../../../server/h3/wire/errors.js';

const CHROMIUM_156 = Buffer.from(
    '0000d7cf508b089d5c0b8170dc6da704ff51032f77742f00b95d8749c87a3f89f058d360ea4567b13f2f0e4148b782c6' +
    '9b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c044eae05c0b86e32fb4f87',
  'hex',
);
const FIREFOX_ESR_153 = Buffer.from(
    '0000cfd7508b089d5c0b8170dc6da704ff518363c27f2f00b95d8749c87a3f89f058d360ea4567b13f5f50b5d07f66a2' +
    '81b0dae053fafc087ed4ce6aadf2a7979c89c6bed4b3bdc0b6cae0fed4c452753b02004000802a61358594fe580b6cae' +
    '0fdd5f398b2d4b70ddf45abefb4005df5f10929bd9abfa5242cb40d25fa523b3e94f684c9f2f0e4148b782c69b07522b' +
    '3d895a74a6b65692c1ca900b810f5f4b909d29aee30c044eae05c0b86e32fb4f872f034148b4a549275a42a13f89f058' +
    'd360ea4567b13f2f034148b4a549275a93c85f85a8eb10f6232f034148b4a549275906497f8640e92ac8324b2eaec31e' +
    'c327d783b606bf2daec1cd48ff86a8eb10649cbfe7',
  'hex',
);

describe('browser CONNECT header blocks (recorded)', () => {
  it('decodes Chromium 156', () => {
    const f = decodeFieldSection(CHROMIUM_156);
    expect(f).toEqual({
      status: 'ok',
      headers: [
        [':scheme', 'https'], [':method', 'CONNECT'], [':authority', '127.0.0.1:54629'], [':path', '/wt'],
        [':protocol', 'webtransport'], ['sec-webtransport-http3-draft02', '1'], ['origin', 'http://127.0.0.1:39491'],
      ],
    });
    if (f.status !== 'ok') return;
    expect(validateConnectRequest(f.headers)).toMatchObject({
      status: 'ok', request: { authority: '127.0.0.1:54629', path: '/wt', origin: 'http://127.0.0.1:39491', draft02: true },
    });
  });

  it('decodes Firefox ESR 153', () => {
    const f = decodeFieldSection(FIREFOX_ESR_153);
    expect(f.status).toBe('ok');
    if (f.status !== 'ok') return;
    expect(f.headers.slice(0, 5)).toEqual([
      [':method', 'CONNECT'], [':scheme', 'https'], [':authority', '127.0.0.1:54629'], [':path', '/wt'], [':protocol', 'webtransport'],
    ]);
    const m = new Map(f.headers);
    for (const [k, v] of [
      ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0'],
      ['accept', '*/*'], ['sec-webtransport-http3-draft02', '1'], ['origin', 'http://127.0.0.1:39491'],
      ['sec-fetch-dest', 'webtransport'], ['sec-fetch-mode', 'no-cors'], ['priority', 'u=4'], ['cache-control', 'no-cache'],
    ]) expect([k, m.get(k)]).toEqual([k, v]);
    expect(f.headers).toHaveLength(17);
    expect(validateConnectRequest(f.headers)).toMatchObject({ status: 'ok', request: { path: '/wt', draft02: true, origin: 'http://127.0.0.1:39491' } });
  });

  it('every truncation is an error or a shorter valid section, never altered content', () => {
    for (const block of [CHROMIUM_156, FIREFOX_ESR_153]) {
      const full = decodeFieldSection(block);
      if (full.status !== 'ok') throw new Error('recorded block must decode');
      for (let cut = 0; cut < block.length; cut++) {
        const r = decodeFieldSection(block.subarray(0, cut));
        if (r.status === 'error') {
          expect([QPACK_DECOMPRESSION_FAILED, H3_EXCESSIVE_LOAD]).toContain(r.code);
          continue;
        }
        // A cut on a field-line boundary is a valid, shorter section: a prefix of the original.
        expect(full.headers.slice(0, r.headers.length)).toEqual(r.headers);
      }
    }
  });
});
