/**
 * Redis commands per chat line for `npm run bench:cluster` (docs/cluster.md): the arithmetic on
 * `INFO commandstats` counters, kept apart from the I/O so it can be tested. Pure.
 *
 * The cluster sends Redis commands all the time, chat or not: node heartbeats (1/s per node),
 * lease renewals and checkpoints of every running room, chat position checks. The chat's own
 * share is what a chat window adds on top of that background. So the bench reads the counters
 * three times in one steady state (the same nodes, the same rooms, the same sessions): an idle
 * window where the room's players are connected and silent, then a chat window where they
 * talk. Per line = (chat-window calls − idle rate × chat-window length) / lines delivered.
 *
 * `calls` in commandstats counts every command Redis executed, including those a Lua script ran
 * (`EVALSHA` once, plus its `XADD`, `HSET`, `SPUBLISH`...), so the total is the work Redis did
 * for a line, and the `evalsha`/`eval` part is the round trips the nodes made for it.
 */

/** Our own probe's commands, never the cluster's. */
export const PROBE_COMMANDS: readonly string[] = ['info'];

/** Calls per command name (lower case, e.g. `evalsha`, `xadd`) from `INFO commandstats` text. */
export function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:\s]+):calls=(\d+)/gm)) calls.set(m[1].toLowerCase(), Number(m[2]));
  return calls;
}

/**
 * Calls made between two readings, per command, leaving out `exclude` (our probe). A counter
 * that went down means Redis restarted or its stats were reset between the readings: the
 * difference would be meaningless, so that throws.
 */
export function callsBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, exclude: readonly string[] = PROBE_COMMANDS): Map<string, number> {
  const out = new Map<string, number>();
  for (const [cmd, n] of after) {
    if (exclude.includes(cmd)) continue;
    const d = n - (before.get(cmd) ?? 0);
    if (d < 0) throw new RangeError(`commandstats ${cmd} went down (${before.get(cmd)} -> ${n}): Redis restarted or was reset between readings`);
    if (d > 0) out.set(cmd, d);
  }
  for (const cmd of before.keys()) {
    if (!after.has(cmd) && !exclude.includes(cmd)) throw new RangeError(`commandstats ${cmd} disappeared: Redis restarted or was reset between readings`);
  }
  return out;
}

/** The calls Redis made during one window, and how long the window was. */
export interface CommandWindow {
  calls: ReadonlyMap<string, number>;
  ms: number;
}

export interface CommandsPerLine {
  /** All commands Redis executed per line, scripts' inner commands included. */
  perLine: number;
  /** Of those, the scripts the nodes sent (EVALSHA/EVAL): round trips per line. */
  scriptsPerLine: number;
  /** Per command name, rounded to 0.01 (a command the chat did not add may come out near 0 or slightly below). */
  byCommand: Record<string, number>;
  /** The background rate the idle window measured, commands per second. */
  backgroundPerSecond: number;
  /** Commands of the chat window, before the background is taken off. */
  chatWindowCalls: number;
  lines: number;
}

const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
/** `x` to `decimals` places (binary floating point kept out of the printed figure). */
const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

/**
 * Redis commands per delivered chat line: the chat window's calls minus the idle window's rate
 * scaled to the chat window's length, divided by the lines delivered. Null when no line was
 * delivered. Throws when the background alone exceeds what the chat window measured (the idle
 * window was not the same steady state: a teardown or a room closing fell into it), because a
 * negative count of commands is not a measurement.
 */
export function commandsPerLine(idle: CommandWindow, chat: CommandWindow, lines: number): CommandsPerLine | null {
  if (!(idle.ms > 0) || !(chat.ms > 0)) throw new RangeError('both windows need a positive length');
  if (lines <= 0) return null;
  const scale = chat.ms / idle.ms;
  const names = new Set([...idle.calls.keys(), ...chat.calls.keys()]);
  const byCommand: Record<string, number> = {};
  let total = 0;
  let scripts = 0;
  for (const cmd of [...names].sort()) {
    const added = (chat.calls.get(cmd) ?? 0) - (idle.calls.get(cmd) ?? 0) * scale;
    total += added;
    if (cmd === 'evalsha' || cmd === 'eval') scripts += added;
    const per = round(added / lines, 2);
    if (per !== 0) byCommand[cmd] = per;
  }
  if (total < 0) {
    throw new RangeError(`the idle window's background (${Math.round(sum(idle.calls) * scale)} calls scaled to the chat window) exceeds the chat window's ${sum(chat.calls)} calls: the windows are not the same steady state`);
  }
  return {
    perLine: round(total / lines, 1),
    scriptsPerLine: round(scripts / lines, 2),
    byCommand,
    backgroundPerSecond: round(sum(idle.calls) / (idle.ms / 1000), 1),
    chatWindowCalls: sum(chat.calls),
    lines,
  };
}
