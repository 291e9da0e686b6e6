import { describe, expect, it } from 'vitest';
import { rendererParam, transportParam } from '../../client/page-params.js';

const q = (s: string) => new URLSearchParams(s);

describe('page parameters', () => {
  it.each([['', 'auto'], ['?transport=webtransport', 'webtransport'], ['?transport=websocket', 'websocket'], ['?transport=quic', 'auto'], ['?transport=auto', 'auto']])(
    '%s: transport %s', (search, want) => {
      expect(transportParam(q(search))).toBe(want);
    });
  it.each([['', undefined], ['?renderer=webgl', 'webgl'], ['?renderer=webgpu', 'webgpu'], ['?renderer=canvas', 'canvas'], ['?renderer=svg', undefined]])(
    '%s: renderer %s', (search, want) => {
      expect(rendererParam(q(search))).toBe(want);
    });
});
