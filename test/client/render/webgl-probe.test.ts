import { describe, expect, it } from 'vitest';
import { isSoftwareWebGL } from '../../../client/render/webgl-probe.js';

describe('isSoftwareWebGL', () => {
  it.each([
    ['ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', true],
    ['llvmpipe (LLVM 15.0.6, 256 bits)', true],
    ['Mesa softpipe', true],
    ['Microsoft Basic Render Driver', true],
    ['ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)', false],
    ['Apple M2', false],
    ['Mesa Intel(R) UHD Graphics 620 (KBL GT2)', false],
    ['', false],
  ])('%s -> %s', (name, soft) => {
    expect(isSoftwareWebGL(name)).toBe(soft);
  });
});
