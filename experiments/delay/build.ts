/**
 * Builds the NFQUEUE delay stage (`nfq-delay.c`) on first use, from Debian packages only:
 * gcc, libnetfilter-queue-dev (headers and library, pulls in libnfnetlink) and iptables (for
 * the NFQUEUE rule; this kernel has xt NFQUEUE but no nft `queue` expression). Missing packages
 * are installed with apt-get when running as root; otherwise the error names the exact command.
 *
 * The binary goes into `experiments/delay/build/` (git-ignored), named after a hash of the
 * source and the compiler flags, so an edited source is rebuilt and two concurrent first uses
 * (two test workers) never see a half-written file: each compiles to its own temporary name
 * and renames it into place.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../netns.js';
import { runCommand } from '../shell.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The C source of the stage. */
export const DELAY_SOURCE = join(HERE, 'nfq-delay.c');
/** Where compiled binaries go (listed in .gitignore). */
export const BUILD_DIR = join(HERE, 'build');

/** -Werror: a warning in a packet-holding program is a bug until shown otherwise. */
const CFLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror'];
const LIBS = ['-lnetfilter_queue', '-lnfnetlink', '-lm'];

/** apt-get can take minutes on a cold cache; compiling takes about a second. */
const APT_TIMEOUT_MS = 10 * 60_000;
const COMPILE_TIMEOUT_MS = 120_000;
/** Where apt-get and dpkg's helpers live on Debian. */
const APT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const OUTPUT_LIMIT_BYTES = 8 * 1024 * 1024;

/** One Debian package the stage needs, and how to tell it is installed. */
export interface Requirement {
  pkg: string;
  why: string;
  present(): Promise<boolean>;
}

async function onPath(cmd: string): Promise<boolean> {
  return (await runCommand('sh', ['-c', `command -v ${cmd}`])).code === 0;
}

/** What the stage needs, in install order. */
export const REQUIREMENTS: readonly Requirement[] = [
  { pkg: 'gcc', why: 'compiles the stage', present: () => onPath('gcc') },
  {
    pkg: 'libnetfilter-queue-dev',
    why: 'libnetfilter_queue headers and library',
    present: async () => existsSync('/usr/include/libnetfilter_queue/libnetfilter_queue.h'),
  },
  { pkg: 'iptables', why: 'adds the NFQUEUE rule', present: () => onPath('iptables') },
];

/** Packages from `REQUIREMENTS` not installed here. */
export async function missingPackages(reqs: readonly Requirement[] = REQUIREMENTS): Promise<string[]> {
  const missing: string[] = [];
  for (const r of reqs) if (!(await r.present())) missing.push(r.pkg);
  return missing;
}

/** The sentence a person without root reads when packages are missing. */
export function installHint(missing: readonly string[]): string {
  const what = REQUIREMENTS.filter((r) => missing.includes(r.pkg)).map((r) => `${r.pkg} (${r.why})`);
  return (
    `the NFQUEUE delay stage needs Debian packages that are not installed: ${what.join(', ')}. ` +
    `Install them as root: apt-get install -y ${missing.join(' ')}`
  );
}

function runLong(file: string, args: readonly string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // env undefined: the child inherits ours.
    execFile(file, args, { timeout: timeoutMs, maxBuffer: OUTPUT_LIMIT_BYTES, encoding: 'utf8', env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : 127) : 0;
      resolve({ code, out: `${stdout ?? ''}${stderr ?? ''}`.trim() });
    });
  });
}

/**
 * Install what is missing (as root, with apt-get; one `apt-get update` and retry if the package
 * lists are stale), or throw an `EnvironmentError` that says exactly what to install.
 */
export async function ensurePackages(opts: { install?: boolean; log?: (line: string) => void } = {}): Promise<void> {
  const missing = await missingPackages();
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || opts.install === false) throw new EnvironmentError(installHint(missing));
  opts.log?.(`delay stage: installing ${missing.join(' ')} with apt-get`);
  // A clean environment: apt-get needs only a PATH, and must never stop to ask a question.
  const env = { PATH: APT_PATH, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  const install = () => runLong('apt-get', ['install', '-y', '-qq', ...missing], APT_TIMEOUT_MS, env);
  let r = await install();
  if (r.code !== 0) {
    await runLong('apt-get', ['update', '-qq'], APT_TIMEOUT_MS, env);
    r = await install();
  }
  const still = await missingPackages();
  if (r.code !== 0 || still.length > 0) {
    throw new EnvironmentError(`apt-get could not install ${still.join(' ') || missing.join(' ')} (exit ${r.code}): ${r.out.slice(-800)}`);
  }
}

/** Path the binary for the current source and flags lives at. */
export function binaryPath(): string {
  const h = createHash('sha256').update(readFileSync(DELAY_SOURCE)).update(JSON.stringify([CFLAGS, LIBS])).digest('hex');
  return join(BUILD_DIR, `nfq-delay-${h.slice(0, 12)}`);
}

/**
 * Return the path of a compiled stage, building it (and installing its packages) if needed.
 * Throws `EnvironmentError` when packages are missing and cannot be installed, and a plain Error
 * with the compiler's output when the build fails.
 */
export async function ensureDelayStage(opts: { install?: boolean; log?: (line: string) => void } = {}): Promise<string> {
  const bin = binaryPath();
  // The packages are checked even when the binary exists: iptables is needed at run time.
  await ensurePackages(opts);
  if (existsSync(bin)) return bin;
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const r = await runLong('gcc', [...CFLAGS, '-o', tmp, DELAY_SOURCE, ...LIBS], COMPILE_TIMEOUT_MS);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`compiling ${DELAY_SOURCE} failed (exit ${r.code}):\n${r.out}`);
  }
  renameSync(tmp, bin);
  // Binaries of earlier sources are never used again (a running one is unaffected by unlink).
  for (const f of readdirSync(BUILD_DIR)) {
    if (/^nfq-delay-[0-9a-f]{12}$/.test(f) && join(BUILD_DIR, f) !== bin) rmSync(join(BUILD_DIR, f), { force: true });
  }
  opts.log?.(`delay stage: built ${bin}`);
  return bin;
}
