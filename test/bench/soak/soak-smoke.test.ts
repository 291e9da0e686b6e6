/**
 * `npm run soak -- --smoke`, end to end: the same program as the 30-minute soak (bench/soak/run.ts)
 * with 3+3 bots, one 10 s wave of every attack, short server timeouts, in network namespaces with
 * 5 % loss when root (else on loopback), so the soak's code cannot rot. It asserts the soak's own
 * properties: nothing leaked after every client left, heap back where it was, no chat line lost
 * or repeated, every honest join and resume succeeded, and every attack moved the refusal
 * counters it is expected to.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tools/lib/child.js';
import { parseJsonLine } from '../../../tools/lib/json-lines.js';
import { ATTACK_KINDS } from '../../../bench/soak/attacks/index.js';

/** The smoke's play is ~18 s; joins, the attacks' wind-down and the quiet check add the rest. */
const RUN_TIMEOUT_MS = 150_000;

interface Ran {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

function runSmoke(): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench/soak/run.ts'), '--smoke'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      // SIGTERM: the harness stops its children and removes its namespaces, then exits.
      child.kill('SIGTERM');
      reject(new Error(`soak smoke did not finish in ${RUN_TIMEOUT_MS} ms; stderr:\n${stderr.slice(-4000)}`));
    }, RUN_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, lines: stdout.split('\n').map(parseJsonLine).filter((l): l is Record<string, unknown> => l !== null) });
    });
  });
}

describe('soak smoke (npm run soak -- --smoke)', () => {
  it('bots over both transports with loss and reconnects beside every attack: nothing leaks, no chat lost or repeated, every attack counted', async () => {
    const r = await runSmoke();
    const of = (kind: string) => r.lines.filter((l) => l.kind === kind);
    const final = of('final')[0] as { leftovers: Record<string, number>; memory: { growthPct: { heap: number } }; attacks: Array<{ kind: string; expected: string[]; moved: string[]; waves: number }>; probes: { count: number; failures: number } } | undefined;
    const bots = of('bots')[0] as { bots: number; drops: number; resumes: number; resumeFailures: number; chat: { sent: number; received: number; missing: number; repeated: number } } | undefined;
    const summary = of('summary')[0] as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> } | undefined;
    const why = `stderr:\n${r.stderr.slice(-6000)}`;
    expect(summary, why).toBeDefined();
    expect(summary!.checks.filter((c) => !c.ok), why).toEqual([]);
    expect(r.code, why).toBe(0);
    // The figures themselves, so a change to the verdict cannot quietly drop one.
    expect(Object.values(final!.leftovers).every((n) => n === 0)).toBe(true);
    expect(final!.memory.growthPct.heap).toBeLessThan(10);
    expect(bots!.bots).toBe(6);
    expect(bots!.drops).toBeGreaterThan(0);
    expect(bots!.resumeFailures).toBe(0);
    expect(bots!.chat.sent).toBeGreaterThan(0);
    expect(bots!.chat.missing).toBe(0);
    expect(bots!.chat.repeated).toBe(0);
    expect(final!.probes.count).toBeGreaterThan(0);
    expect(final!.probes.failures).toBe(0);
    expect(final!.attacks.map((a) => a.kind).sort()).toEqual([...ATTACK_KINDS].sort());
    for (const a of final!.attacks) {
      expect(a.waves, a.kind).toBe(1);
      expect(a.moved, a.kind).toEqual(a.expected);
    }
    expect(of('sample').length).toBeGreaterThan(3);
  }, RUN_TIMEOUT_MS + 10_000);
});
