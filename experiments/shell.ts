/**
 * Small wrappers around the system tools the harness drives (`ip`, `nft`, `tc`). Every call is an
 * argv array passed to execFile, never a shell string, so names and numbers cannot be re-parsed.
 */
import { execFile, execFileSync } from 'node:child_process';

/** Outcome of one external command; the harness decides what a non-zero exit means. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Longest we let a single `ip`/`nft`/`tc` call run: these are instant unless the kernel hangs. */
export const COMMAND_TIMEOUT_MS = 10_000;
/** Output cap per command: listings of namespaces/links/tables are a few kB at most. */
const COMMAND_MAX_BUFFER_BYTES = 4 * 1024 * 1024;

/** Run a command and resolve with its exit code and output; never rejects. */
export function runCommand(file: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, maxBuffer: COMMAND_MAX_BUFFER_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      let code = 0;
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: unknown };
        code = typeof e.code === 'number' ? e.code : 127;
      }
      resolve({ code, stdout: String(stdout ?? ''), stderr: String(stderr ?? '') || (err && code === 127 ? String(err.message) : '') });
    });
  });
}

/** Run a command and throw a readable error when it fails. */
export async function mustRun(file: string, args: readonly string[]): Promise<string> {
  const r = await runCommand(file, args);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

/**
 * Synchronous variant for `process.on('exit')`, where no promise can settle any more. Returns
 * the exit code and swallows errors: it is only used for best-effort teardown.
 */
export function runCommandSync(file: string, args: readonly string[]): number {
  try {
    execFileSync(file, args, { timeout: COMMAND_TIMEOUT_MS, stdio: 'ignore' });
    return 0;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    return typeof status === 'number' ? status : 127;
  }
}
