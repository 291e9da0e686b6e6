/**
 * The Colyseus peer (../shared/peers/colyseus beside the repository): copied to a temporary
 * folder (never into the repo), installed there with npm, and run through its own orchestrator
 * `bench.mjs` once per (P, run), interleaved with our runs so both see the same machine. Its
 * results JSON is mapped onto our run line (`colyseusRunLine`, pure and tested).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ToolChild } from '../../tools/lib/child.js';
import { pinDescendantsWhenSeen, type PinPlan } from '../../tools/lib/pin.js';
import type { CleanupStack } from '../../tools/lib/cleanup.js';
import { emptyMetrics, type RunLine } from './report.js';

/** The peer's files we copy (its results folders are not needed). */
const PEER_FILES = ['bench.mjs', 'server.mjs', 'clients.mjs', 'enc_demo.mjs', 'package.json', 'package-lock.json'];
/** npm install of four packages; generous for a cold cache on a slow mirror. */
export const PEER_INSTALL_TIMEOUT_MS = 300_000;
/** bench.mjs allows 15 s for its server, 20 s + 180 s for joins, 10 s per stop, 30 s for a probe. */
const PEER_FIXED_OVERHEAD_MS = 270_000;

/** What the CLI hands the peer: the environment its processes inherit, and the teardown stack. */
export interface PeerHost {
  env: NodeJS.ProcessEnv;
  /** Registers the peer's processes for teardown on failure, SIGINT and SIGTERM. */
  cleanup?: CleanupStack;
}

export interface PeerRunOptions {
  P: number;
  run: number;
  warmupS: number;
  windowS: number;
  /** `--pin`: the peer's orchestrator and clients on `clients`, its server.mjs on `server`. */
  pin?: PinPlan | null;
}

/** Where the peer lives relative to the repository root (CI has shared/ beside the clone). */
export function peerSourceDir(repoRoot: string): string {
  return resolve(repoRoot, '..', 'shared', 'peers', 'colyseus');
}

/**
 * A prepared copy of the peer. The install is cached in the temp dir keyed by a hash of the
 * peer's package files, so repeated bench runs do not reinstall; sources are recopied each time.
 */
export class ColyseusPeer {
  private constructor(readonly dir: string, private readonly host: PeerHost) {}

  static async prepare(sourceDir: string, log: (s: string) => void, host: PeerHost): Promise<ColyseusPeer> {
    const { cleanup } = host;
    for (const f of PEER_FILES) {
      if (!existsSync(join(sourceDir, f))) throw new Error(`Colyseus peer not found: ${join(sourceDir, f)} is missing`);
    }
    const hash = createHash('sha256');
    for (const f of ['package.json', 'package-lock.json']) hash.update(readFileSync(join(sourceDir, f)));
    const key = hash.digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `tickwire-bench-colyseus-${key}`);
    mkdirSync(dir, { recursive: true });
    for (const f of PEER_FILES) {
      const target = join(dir, f);
      // The shared copy is read-only; write the contents so our copy stays writable.
      if (existsSync(target)) chmodSync(target, 0o644);
      writeFileSync(target, readFileSync(join(sourceDir, f)), { mode: 0o644 });
    }
    const marker = join(dir, 'node_modules', '.tickwire-installed');
    if (!existsSync(marker) || readFileSync(marker, 'utf8') !== key) {
      log(`[peer] npm install in ${dir} ...`);
      const npm = ToolChild.command('npm', ['install', '--no-audit', '--no-fund'], { label: 'peer-npm', cwd: dir, cleanup });
      let info;
      try {
        info = await npm.waitExit(PEER_INSTALL_TIMEOUT_MS);
      } catch (err) {
        await npm.stop();
        throw err;
      }
      if (info.code !== 0) throw new Error(`npm install for the Colyseus peer failed (code ${info.code}):\n${npm.recentOutput()}`);
      writeFileSync(marker, key);
    } else {
      log(`[peer] reusing install in ${dir}`);
    }
    return new ColyseusPeer(dir, host);
  }

  /**
   * One (P, run) through the peer's bench.mjs (PS=P RUNS=1, same warm-up and window as ours),
   * in a fresh results folder. The child and anything it forked are stopped by PID on the way
   * out. Returns our run line (with `error` set when the peer failed).
   */
  async runOnce(o: PeerRunOptions, log: (s: string) => void): Promise<RunLine> {
    const out = mkdtempSync(join(this.dir, 'results-'));
    // Pinned, everything the peer starts inherits the clients' CPUs; its server is moved to the
    // server's as soon as it appears (taskset execs node, so the child's pid is the orchestrator's).
    const child = ToolChild.command(process.execPath, ['bench.mjs'], {
      label: `colyseus P=${o.P}`,
      cpus: o.pin?.clients,
      echo: true,
      cleanup: this.host.cleanup,
      cwd: this.dir,
      env: { ...this.host.env, PS: String(o.P), RUNS: '1', WARMUP_S: String(o.warmupS), WINDOW_S: String(o.windowS), OUT: out },
    });
    const stopPinning = o.pin && child.pid ? pinDescendantsWhenSeen(child.pid, 'server.mjs', o.pin.server, log) : () => {};
    try {
      const limit = PEER_FIXED_OVERHEAD_MS + (o.warmupS + o.windowS) * 1000;
      const info = await child.waitExit(limit);
      const file = join(out, `P${o.P}_run1.json`);
      if (!existsSync(file)) {
        throw new Error(`peer wrote no ${file} (exit code ${info.code}):\n${child.recentOutput()}`);
      }
      return colyseusRunLine(JSON.parse(readFileSync(file, 'utf8')), o.run, o.windowS);
    } catch (err) {
      log(`[peer] P=${o.P} run ${o.run} failed: ${err instanceof Error ? err.message : String(err)}`);
      return { kind: 'run', system: 'colyseus', transport: 'websocket', P: o.P, run: o.run, windowS: o.windowS, ...emptyMetrics(), error: String(err instanceof Error ? err.message : err).slice(0, 500) };
    } finally {
      stopPinning();
      await child.stop();
      rmSync(out, { recursive: true, force: true });
    }
  }

  /** Removes stale results folders of interrupted runs (install is kept). */
  tidy(): void {
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith('results-') && statSync(join(this.dir, name)).isDirectory()) rmSync(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Maps one results JSON of the peer's bench.mjs (`P<P>_run1.json`: server, client.observer,
 * load) to our run line. The peer does not measure entity staleness or datagrams (it is
 * WebSocket only), so those stay null. Tolerates missing fields (null), never throws on shape.
 */
export function colyseusRunLine(json: unknown, run: number, windowS: number): RunLine {
  const r = obj(json);
  const P = num(r.P) ?? 0;
  const server = obj(r.server);
  const observer = obj(obj(r.client).observer);
  const load = obj(r.load);
  const gap = obj(observer.gapMs);
  const patchBytes = obj(observer.patchBytes);
  const cpu = num(server.cpuPerWallS);
  return {
    kind: 'run', system: 'colyseus', transport: 'websocket', P, run, windowS,
    downAppBps: num(observer.downAppBps),
    downWireBps: num(observer.downSockBps),
    upAppBps: num(observer.upAppBps),
    upWireBps: num(observer.upSockBps),
    loadDownAppBpsMean: num(obj(load.allClients).downAppBpsMean),
    serverCpuSps: cpu,
    serverCpuMsPerClient: cpu !== null && P > 0 ? (cpu * 1000) / P : null,
    serverGcMsPerSec: null,
    serverAllocMiBPerSec: null,
    serverElu: null,
    simHz: num(server.tickHz),
    tickMsMean: num(server.tickMeanMs),
    tickMsP99: null,
    snapshotsPerSec: num(observer.patchHz),
    gapP50Ms: num(gap.p50),
    gapP99Ms: num(gap.p99),
    gapMaxMs: num(gap.max),
    stalenessP50Ms: null,
    stalenessP99Ms: null,
    datagramsPerSnapshot: null,
    snapshotBytesMean: num(patchBytes.mean),
    snapshotBytesMax: num(patchBytes.max),
    snapshotsUndecodable: null,
    entitiesSeen: num(observer.playersInState),
    serverRssMB: num(server.rssMB),
    loadCpuSps: num(load.clientProcCpuPerWallS),
    inputsPerSec: num(server.inputsPerS),
    udpPacketsInPerSec: null,
    udpPacketsOutPerSec: null,
    udpSocketDrops: null,
    snapshotEncodesPerSec: null,
    snapshotShareRatio: null,
  };
}
