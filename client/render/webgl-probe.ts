/**
 * Tells whether the browser's WebGL is a software rasterizer. Headless browsers without a GPU
 * (CI, this project's test machines) give SwiftShader or llvmpipe: it works but drew 4-10
 * frames/s here, where Pixi's Canvas 2D renderer held 60 on the same page; Chromium does not
 * report it as a "major performance caveat", so we look at the renderer string ourselves.
 */

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render|lavapipe/i;

/** The WebGL renderer string ('' when there is no WebGL at all). */
export function webglRendererName(doc: Document): string {
  try {
    const canvas = doc.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return '';
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return name;
  } catch {
    return '';
  }
}

/** True when WebGL exists but is a software rasterizer. */
export function isSoftwareWebGL(rendererName: string): boolean {
  return rendererName !== '' && SOFTWARE_RENDERER.test(rendererName);
}
