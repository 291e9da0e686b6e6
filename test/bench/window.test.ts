import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peerSourceDir } from '../../bench/standard-scene/peer.js';
import { SERVER_LOOP_RESOLUTION_MS } from '../../bench/standard-scene/window.js';
import { REPO_ROOT } from '../../tools/lib/child.js';

describe('the bench server window', () => {
  it('samples its event loop at the Colyseus peer server\'s resolution, so both pay the same instrumentation', () => {
    const peer = readFileSync(join(peerSourceDir(REPO_ROOT), 'server.mjs'), 'utf8');
    const m = /monitorEventLoopDelay\(\{\s*resolution:\s*(\d+)\s*\}\)/.exec(peer);
    expect(m, 'the peer server samples its event loop with monitorEventLoopDelay').not.toBeNull();
    expect(SERVER_LOOP_RESOLUTION_MS).toBe(Number(m![1]));
  });
});
