import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Directories never scanned for client sources (build output, dependencies). */
const SKIP_DIRS = new Set(['dist', 'node_modules', '.vite']);
/** Bound on files scanned: the client tree is small; a runaway symlink loop must not hang start-up. */
export const MAX_SOURCE_FILES = 5_000;

/** Newest modification time (ms) of the files under `dirs`, skipping build output. */
export function newestMtime(dirs: string[]): number {
  let newest = 0;
  let seen = 0;
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (seen++ > MAX_SOURCE_FILES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (e.isFile()) {
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  for (const d of dirs) walk(d);
  return newest;
}

export interface ClientBundleOptions {
  /** client/ (holds vite.config.ts and index.html). */
  clientDir: string;
  /** Other source trees the bundle includes (shared/). */
  extraSourceDirs?: string[];
}

export type ClientBundleResult = { built: boolean; distDir: string; reason: 'missing' | 'stale' | 'fresh' };

/**
 * Builds the demo client with Vite (its `build()` API and client/vite.config.ts) when
 * client/dist/index.html is missing or older than any client (or shared) source file.
 * Vite is imported only when a build is needed, so embedders without it are unaffected.
 */
export async function ensureClientBundle(options: ClientBundleOptions): Promise<ClientBundleResult> {
  const distDir = join(options.clientDir, 'dist');
  const index = join(distDir, 'index.html');
  let reason: ClientBundleResult['reason'] = 'fresh';
  if (!existsSync(index)) reason = 'missing';
  else {
    const builtAt = statSync(index).mtimeMs;
    if (newestMtime([options.clientDir, ...(options.extraSourceDirs ?? [])]) > builtAt) reason = 'stale';
  }
  if (reason === 'fresh') return { built: false, distDir, reason };
  const vite = await import('vite');
  await vite.build({ configFile: join(options.clientDir, 'vite.config.ts'), logLevel: 'warn' });
  return { built: true, distDir, reason };
}
