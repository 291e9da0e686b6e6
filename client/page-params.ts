/**
 * What the pages (main.ts, watch.ts, lobby.ts) read from their URL and from storage, read one
 * way: the query parameters they share and the name remembered between them.
 */
import type { TransportPreference } from './net/game-client-types.js';
import type { RendererKind } from './render/arena.js';

/** localStorage key of the last name typed on the game page (the watch page and lobby offer it). */
const NAME_KEY = 'tickwire.name';

/** `transport=auto|webtransport|websocket`; anything else is auto (WebTransport first). */
export function transportParam(params: URLSearchParams): TransportPreference {
  const v = params.get('transport');
  return v === 'webtransport' || v === 'websocket' ? v : 'auto';
}

/** `renderer=webgl|webgpu|canvas`, the Pixi renderer to try first; anything else leaves the choice to the renderer. */
export function rendererParam(params: URLSearchParams): RendererKind | undefined {
  const v = params.get('renderer');
  return v === 'canvas' || v === 'webgpu' || v === 'webgl' ? v : undefined;
}

/** Remembers the name typed on the game page (nothing when storage is disabled). */
export function rememberName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // storage may be disabled
  }
}

/** The name remembered from the game page, or '' (storage may be disabled). */
export function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}
