import { describe, expect, it } from 'vitest';
import { DROP_REASONS, ERRORS, ErrorCode, errorInfo, isErrorCode } from '../../shared/errors.js';

describe('error catalogue', () => {
  it('has the codes 4000-4017 and 4019-4022 in order (4018 reserved) with the names of docs/architecture.md', () => {
    expect(ERRORS.map((e) => e.code)).toEqual([...Array.from({ length: 18 }, (_, i) => 4000 + i), 4019, 4020, 4021, 4022]);
    for (const e of ERRORS) expect(ErrorCode[e.name as keyof typeof ErrorCode]).toBe(e.code);
    expect(Object.keys(ErrorCode)).toHaveLength(ERRORS.length);
    expect(ErrorCode.WRONG_CHANNEL).toBe(4015);
    expect(ErrorCode.UNKNOWN_ROOM).toBe(4016);
    expect(ErrorCode.SERVER_BUSY).toBe(4017);
    expect(ErrorCode.WRONG_NODE).toBe(4019);
    expect(ErrorCode.CLUSTER_UNAVAILABLE).toBe(4020);
    expect(ErrorCode.SPECTATORS_FULL).toBe(4021);
    expect(ErrorCode.TOO_MANY_SESSIONS).toBe(4022);
  });

  it('every code fits the WebSocket private range and says who caused it', () => {
    for (const e of ERRORS) {
      expect(e.code).toBeGreaterThanOrEqual(4000);
      expect(e.code).toBeLessThanOrEqual(4099);
      expect(typeof e.peerCaused).toBe('boolean');
      expect(e.description.length).toBeGreaterThan(5);
    }
    expect(errorInfo(4002)?.peerCaused).toBe(true);
    expect(errorInfo(4009)?.peerCaused).toBe(false);
  });

  it('looks codes up and rejects uncatalogued ones', () => {
    expect(errorInfo(4004)?.name).toBe('MESSAGE_TOO_LARGE');
    expect(errorInfo(4099)).toBeUndefined();
    expect(isErrorCode(4010)).toBe(true);
    expect(isErrorCode(1000)).toBe(false);
    expect(isErrorCode('4000')).toBe(false);
  });

  it('lists the drop reasons used as metric labels', () => {
    expect([...DROP_REASONS].sort()).toEqual(['before_hello', 'decode', 'invalid_field', 'queue_full', 'rate_limited', 'stale', 'too_large', 'unknown_type', 'wrong_channel']);
  });
});
