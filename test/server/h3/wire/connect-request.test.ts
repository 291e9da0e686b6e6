import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildConnectRequestHeaders, buildConnectResponseHeaders, validateConnectRequest, validateConnectResponse,
} from '../../../../server/h3/wire/connect-request.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from '../../../../server/h3/wire/qpack/index.js';
import { H3_MESSAGE_ERROR } from '../../../../server/h3/wire/errors.js';

const chromium: HeaderField[] = [
  [':method', 'CONNECT'], [':scheme', 'https'], [':authority', '127.0.0.1:4433'], [':path', '/wt?room=a'],
  [':protocol', 'webtransport'], ['sec-webtransport-http3-draft02', '1'], ['origin', 'http://127.0.0.1:8080'],
  ['user-agent', 'Mozilla/5.0'],
];

function without(name: string): HeaderField[] {
  return chromium.filter(([n]) => n !== name);
}
function replace(name: string, value: string): HeaderField[] {
  return chromium.map(([n, v]) => (n === name ? [n, value] : [n, v]) as HeaderField);
}

describe('WebTransport extended CONNECT validation (RFC 9220 §3, RFC 9114 §4.3)', () => {
  it('accepts what Chromium sends', () => {
    expect(validateConnectRequest(chromium)).toEqual({
      status: 'ok',
      request: {
        authority: '127.0.0.1:4433', path: '/wt?room=a', origin: 'http://127.0.0.1:8080', draft02: true,
        headers: [['sec-webtransport-http3-draft02', '1'], ['origin', 'http://127.0.0.1:8080'], ['user-agent', 'Mozilla/5.0']],
      },
    });
  });

  it('accepts a draft-07 request without the draft02 header and without origin', () => {
    const r = validateConnectRequest(without('sec-webtransport-http3-draft02').filter(([n]) => n !== 'origin'));
    expect(r).toMatchObject({ status: 'ok', request: { draft02: false, origin: null } });
  });

  it('round-trips the Node client request through QPACK', () => {
    const h = buildConnectRequestHeaders({ authority: 'localhost:4433', path: '/game', origin: 'http://localhost:8080' });
    const d = decodeFieldSection(encodeFieldSection(h));
    expect(d.status).toBe('ok');
    if (d.status !== 'ok') return;
    expect(validateConnectRequest(d.headers)).toMatchObject({ status: 'ok', request: { authority: 'localhost:4433', path: '/game', origin: 'http://localhost:8080', draft02: true } });
  });

  it.each<[string, HeaderField[]]>([
    ['missing :method', without(':method')],
    ['missing :path', without(':path')],
    ['missing :scheme', without(':scheme')],
    ['missing :authority', without(':authority')],
    ['empty :authority', replace(':authority', '')],
    ['userinfo in :authority', replace(':authority', 'u@127.0.0.1')],
    ['relative :path', replace(':path', 'wt')],
    ['duplicate :path', [[':path', '/a'], ...chromium]],
    ['pseudo after regular', [...without(':path'), [':path', '/wt']]],
    ['unknown pseudo-header', [[':foo', 'x'], ...chromium]],
    ['response pseudo-header', [[':status', '200'], ...chromium]],
    ['uppercase name', [...chromium, ['Origin2', 'x']]],
    ['space in name', [...chromium, ['x y', 'x']]],
    ['empty name', [...chromium, ['', 'x']]],
    ['CR LF in value', [...chromium, ['x-a', 'a\r\nb']]],
    ['NUL in value', replace(':path', '/a\u0000b')],
    ['connection header', [...chromium, ['connection', 'close']]],
    ['transfer-encoding', [...chromium, ['transfer-encoding', 'chunked']]],
    ['te: gzip', [...chromium, ['te', 'gzip']]],
    ['two origins', [...chromium, ['origin', 'http://evil']]],
    ['host mismatch', [...chromium, ['host', 'other:1']]],
    [':protocol on GET', replace(':method', 'GET')],
    ['classic CONNECT with :path', without(':protocol')],
  ])('rejects %s with H3_MESSAGE_ERROR', (_n, h) => {
    expect(validateConnectRequest(h)).toMatchObject({ status: 'error', code: H3_MESSAGE_ERROR });
  });

  it('reports well-formed requests that are not WebTransport separately', () => {
    expect(validateConnectRequest(replace(':protocol', 'websocket'))).toMatchObject({ status: 'not-webtransport', method: 'CONNECT', protocol: 'websocket' });
    expect(validateConnectRequest(replace(':scheme', 'http'))).toMatchObject({ status: 'not-webtransport', protocol: 'webtransport' });
    expect(validateConnectRequest([[':method', 'GET'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']])).toMatchObject({ status: 'not-webtransport', method: 'GET' });
    expect(validateConnectRequest([[':method', 'CONNECT'], [':authority', 'a:443']])).toMatchObject({ status: 'not-webtransport', detail: 'classic CONNECT' });
    expect(validateConnectRequest([['te', 'trailers'], ...chromium]).status).toBe('error'); // regular before pseudo
    expect(validateConnectRequest([...chromium, ['te', 'trailers']]).status).toBe('ok');
  });

  it('builds and validates responses (client role)', () => {
    expect(buildConnectResponseHeaders(200, { draft02: true })).toEqual([[':status', '200'], ['sec-webtransport-http3-draft', 'draft02']]);
    expect(buildConnectResponseHeaders(404, { draft02: true })).toEqual([[':status', '404']]);
    expect(() => buildConnectResponseHeaders(99)).toThrow(RangeError);
    expect(validateConnectResponse([[':status', '200'], ['server', 'x']])).toEqual({ status: 'ok', statusCode: 200, headers: [['server', 'x']] });
    for (const bad of [[], [[':status', '20']], [[':status', '200'], [':status', '200']], [[':status', '200'], [':path', '/']], [['server', 'x'], [':status', '200']], [[':status', '600']]] as HeaderField[][]) {
      expect(validateConnectResponse(bad)).toMatchObject({ status: 'error', code: H3_MESSAGE_ERROR });
    }
  });

  it('never throws on arbitrary header lists (property)', () => {
    const name = fc.oneof(fc.constantFrom(':method', ':path', ':scheme', ':authority', ':protocol', ':status', 'origin', 'te', 'host', 'Origin'), fc.string({ maxLength: 8 }));
    const value = fc.oneof(fc.constantFrom('CONNECT', 'webtransport', 'https', '/', 'a', 'trailers', ''), fc.string({ maxLength: 8 }));
    fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 10 }), (h) => {
      expect(['ok', 'not-webtransport', 'error']).toContain(validateConnectRequest(h).status);
      expect(['ok', 'error']).toContain(validateConnectResponse(h).status);
    }), { numRuns: 3000 });
    // Shuffled Chromium headers are valid exactly when all pseudo-headers come first.
    fc.assert(fc.property(fc.shuffledSubarray(chromium, { minLength: chromium.length }), (h) => {
      const firstRegular = h.findIndex(([n]) => !n.startsWith(':'));
      const ordered = h.slice(firstRegular).every(([n]) => !n.startsWith(':'));
      expect(validateConnectRequest(h).status).toBe(ordered ? 'ok' : 'error');
    }), { numRuns: 500 });
  });
});
