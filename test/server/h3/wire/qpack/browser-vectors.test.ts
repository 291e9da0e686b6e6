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
import { CHROMIUM_156, FIREFOX_ESR_153 } from './browser-blocks.js';

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
