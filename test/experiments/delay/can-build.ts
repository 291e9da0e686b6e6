/**
 * Whether the NFQUEUE delay stage can be built here (gcc, libnetfilter-queue-dev, iptables).
 * As root, missing packages are installed; a developer box without them and without root skips
 * with the install command, but under CI=true (where .ci/run installs them) it is a failure.
 */
import { ensureDelayStage } from '../../../experiments/delay/build.js';
import { EnvironmentError } from '../../../experiments/netns.js';

export interface BuildDecision {
  binary: string | null;
  reason: string;
}

export async function canBuildDelayStage(): Promise<BuildDecision> {
  try {
    return { binary: await ensureDelayStage(), reason: '' };
  } catch (err) {
    if (!(err instanceof EnvironmentError)) throw err;
    if (process.env.CI === 'true') throw new Error(`CI=true but the delay stage cannot be built: ${err.message}`);
    process.stderr.write(`skipping delay stage tests: ${err.message}\n`);
    return { binary: null, reason: err.message };
  }
}
