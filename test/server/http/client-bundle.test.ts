import { mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureClientBundle, newestMtime } from '../../../server/http/client-bundle.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-bundle-'));
  dirs.push(dir);
  const clientDir = join(dir, 'client');
  const sharedDir = join(dir, 'shared');
  mkdirSync(clientDir);
  mkdirSync(sharedDir);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(clientDir, 'vite.config.ts'),
    "export default { root: import.meta.dirname, base: './', logLevel: 'silent', build: { outDir: 'dist', emptyOutDir: true } };\n");
  writeFileSync(join(clientDir, 'index.html'), '<!doctype html><script type="module" src="./main.ts"></script>\n');
  writeFileSync(join(clientDir, 'main.ts'), "import { x } from '../shared/x.js';\ndocument.title = String(x);\n");
  writeFileSync(join(sharedDir, 'x.ts'), 'export const x = 1;\n');
  return { clientDir, sharedDir };
}

describe('ensureClientBundle', () => {
  it('builds with vite when dist is missing, skips when fresh, rebuilds when a client or shared source is newer', async () => {
    const { clientDir, sharedDir } = project();
    const opts = { clientDir, extraSourceDirs: [sharedDir] };
    expect(await ensureClientBundle(opts)).toMatchObject({ built: true, reason: 'missing' });
    const index = join(clientDir, 'dist', 'index.html');
    expect(existsSync(index)).toBe(true);
    expect(await ensureClientBundle(opts)).toMatchObject({ built: false, reason: 'fresh' });
    // A shared source edited after the build makes the bundle stale.
    const later = new Date(statSync(index).mtimeMs + 10_000);
    utimesSync(join(sharedDir, 'x.ts'), later, later);
    expect(await ensureClientBundle(opts)).toMatchObject({ built: true, reason: 'stale' });
    const earlier = new Date(statSync(index).mtimeMs - 10_000);
    utimesSync(join(sharedDir, 'x.ts'), earlier, earlier);
    expect(await ensureClientBundle(opts)).toMatchObject({ built: false, reason: 'fresh' });
  }, 60_000);

  it('newestMtime ignores dist and node_modules', () => {
    const { clientDir } = project();
    const base = newestMtime([clientDir]);
    mkdirSync(join(clientDir, 'dist'));
    mkdirSync(join(clientDir, 'node_modules'));
    const future = new Date(base + 100_000);
    for (const p of [join(clientDir, 'dist', 'a.js'), join(clientDir, 'node_modules', 'b.js')]) {
      writeFileSync(p, '');
      utimesSync(p, future, future);
    }
    expect(newestMtime([clientDir])).toBe(base);
  });
});
