/**
 * Whether the namespace tests can run here. CI runs as root with `ip netns`; a developer box
 * without root skips them with a message, but under CI=true a missing prerequisite is a failure,
 * so the experiment never silently stops being tested.
 */
import { checkPrerequisites } from '../../experiments/netns.js';

export interface RunDecision {
  run: boolean;
  reason: string;
}

export async function canRunNetnsTests(): Promise<RunDecision> {
  try {
    await checkPrerequisites();
    return { run: true, reason: '' };
  } catch (err) {
    const reason = (err as Error).message;
    if (process.env.CI === 'true') {
      throw new Error(`CI=true but the experiment harness cannot run: ${reason}`);
    }
    process.stderr.write(`skipping experiment harness tests: ${reason}\n`);
    return { run: false, reason };
  }
}
