/**
 * JSON lines: one JSON object per line. It is what every tool prints on stdout for machines
 * (bench results, the bots report) and the protocol between a harness and its child processes
 * (child.ts, child-entry.ts), so a line means the same wherever it is read.
 */

/** Where lines go: process.stdout, or any stream-like sink (tests collect them). */
export interface LineSink {
  write(text: string): unknown;
}

/** Writes `value` as one line. */
export function writeJsonLine(value: object, out: LineSink = process.stdout): void {
  out.write(`${JSON.stringify(value)}\n`);
}

/**
 * The object on `line`, or null when the line is not a JSON object (plain output of a child,
 * a half-written line): callers treat those as text, never as an error.
 */
export function parseJsonLine(line: string): Record<string, unknown> | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
