/**
 * `npm run bots` as a user meets it: the usage on --help (exit 0) and on a bad flag (exit 2), and
 * a short real run whose one stdout line carries exactly the documented report keys.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_USAGE } from '../../../tools/bots/args.js';
import { REPO_ROOT } from '../../../tools/lib/child.js';
import { parseJsonLine } from '../../../tools/lib/json-lines.js';
import { closeTestServers, startTestServer } from '../../client/net/helpers/game-server.js';

/** The report's keys, in order: the CLI's output contract. */
const REPORT_KEYS = [
  'transport', 'clients', 'connected', 'durationS', 'snapshotsPerSec', 'downBytesPerSecPerClient', 'upBytesPerSecPerClient',
  'rttP50Ms', 'rttP99Ms', 'chatSent', 'chatReceived', 'chatExpected', 'snapshotAgeMsP50', 'snapshotAgeMsP99',
  'snapshotGapMsP50', 'snapshotGapMsP99', 'datagramsLost', 'reconnects', 'botsEventLoopDelayP99Ms', 'botsCpuPercent',
  'errors', 'errorSamples',
];

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tools/bots/cli.ts'), ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bots CLI did not finish; stderr:\n${stderr}`));
    }, 40_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

afterEach(closeTestServers);

describe('bots CLI', () => {
  it('prints the usage on --help (exit 0) and with the reason on a bad flag (exit 2)', async () => {
    expect(await runCli(['--help'])).toEqual({ code: 0, stdout: '', stderr: `${BOT_USAGE}\n` });
    expect(await runCli(['--count', '0'])).toEqual({ code: 2, stdout: '', stderr: `--count needs an integer in [1, 2000], got "0"\n${BOT_USAGE}\n` });
  }, 60_000);

  it('runs a bot and prints one JSON line with the report keys', async () => {
    const server = await startTestServer();
    const r = await runCli(['--url', server.baseUrl, '--transport', 'ws', '--count', '1', '--duration', '1']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = parseJsonLine(lines[0]);
    expect(Object.keys(report ?? {})).toEqual(REPORT_KEYS);
    expect(report).toMatchObject({ transport: 'ws', clients: 1, connected: 1, errors: 0 });
  }, 60_000);
});
