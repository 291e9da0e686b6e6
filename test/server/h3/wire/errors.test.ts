import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  errorCodeName, H3_MESSAGE_ERROR, http3CodeToWebTransport, isReservedH3ErrorCode, QPACK_DECOMPRESSION_FAILED,
  webTransportCodeToHttp3, WT_APPLICATION_ERROR_FIRST, WT_APPLICATION_ERROR_LAST, WT_BUFFERED_STREAM_REJECTED, WT_SESSION_GONE,
} from '../../../../server/h3/wire/errors.js';

describe('error codes', () => {
  it('has the registered values', () => {
    expect(H3_MESSAGE_ERROR).toBe(0x10e);
    expect(QPACK_DECOMPRESSION_FAILED).toBe(0x200);
    expect(WT_BUFFERED_STREAM_REJECTED).toBe(0x3994bd84);
    expect(WT_SESSION_GONE).toBe(0x170d7b68);
    expect(errorCodeName(0x105)).toBe('H3_FRAME_UNEXPECTED');
    expect(errorCodeName(webTransportCodeToHttp3(7))).toBe('WT_APPLICATION_ERROR(7)');
    expect(errorCodeName(0x999)).toBe('UNKNOWN(0x999)');
  });

  it('maps the ends of the WebTransport code range (draft-ietf-webtrans-http3 §4.3)', () => {
    expect(webTransportCodeToHttp3(0)).toBe(WT_APPLICATION_ERROR_FIRST);
    expect(webTransportCodeToHttp3(0xffffffff)).toBe(WT_APPLICATION_ERROR_LAST);
    expect(webTransportCodeToHttp3(0x1d)).toBe(0x52e4a40fa8db + 0x1d);
    // 0x1e skips one codepoint: the reserved 0x1f*N+0x21 value lies between 0x1d and 0x1e.
    expect(webTransportCodeToHttp3(0x1e)).toBe(0x52e4a40fa8db + 0x1e + 1);
    expect(isReservedH3ErrorCode(0x52e4a40fa8db + 0x1e)).toBe(true);
    expect(http3CodeToWebTransport(WT_APPLICATION_ERROR_FIRST)).toBe(0);
    expect(http3CodeToWebTransport(WT_APPLICATION_ERROR_LAST)).toBe(0xffffffff);
  });

  it('rejects codes outside the range and reserved codepoints in the inverse', () => {
    expect(http3CodeToWebTransport(WT_APPLICATION_ERROR_FIRST - 1)).toBeNull();
    expect(http3CodeToWebTransport(WT_APPLICATION_ERROR_LAST + 1)).toBeNull();
    expect(http3CodeToWebTransport(0x52e4a40fa8db + 0x1e)).toBeNull();
    expect(http3CodeToWebTransport(0x10c)).toBeNull();
    expect(http3CodeToWebTransport(2n ** 62n - 1n)).toBeNull();
    expect(http3CodeToWebTransport(BigInt(WT_APPLICATION_ERROR_FIRST) + 5n)).toBe(5);
    expect(http3CodeToWebTransport(1.5)).toBeNull();
    expect(() => webTransportCodeToHttp3(-1)).toThrow(RangeError);
    expect(() => webTransportCodeToHttp3(2 ** 32)).toThrow(RangeError);
  });

  it('round-trips every 32-bit code and never lands on a reserved codepoint (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (e) => {
      const h = webTransportCodeToHttp3(e);
      expect(isReservedH3ErrorCode(h)).toBe(false);
      expect(http3CodeToWebTransport(h)).toBe(e);
      expect(http3CodeToWebTransport(h + 1) === e + 1 || isReservedH3ErrorCode(h + 1) || e === 0xffffffff).toBe(true);
    }), { numRuns: 5000 });
  });

  it('inverse of any code in the range is either null (reserved) or maps back to it (property)', () => {
    fc.assert(fc.property(fc.integer({ min: WT_APPLICATION_ERROR_FIRST, max: WT_APPLICATION_ERROR_LAST }), (h) => {
      const e = http3CodeToWebTransport(h);
      if (e === null) expect(isReservedH3ErrorCode(h)).toBe(true);
      else expect(webTransportCodeToHttp3(e)).toBe(h);
    }), { numRuns: 5000 });
  });
});
