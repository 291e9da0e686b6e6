/**
 * Adds up counter objects of the same shape (the workers' `WebTransportServerStats`): numbers
 * are summed, records of numbers summed per key, booleans or-ed; null stays null unless one of
 * them is not. I/O-free.
 */
type Counters = { [key: string]: unknown };

export function sumCounters<T extends object>(items: readonly T[]): T {
  let acc: unknown = undefined;
  for (const item of items) acc = add(acc, item);
  return acc as T;
}

function add(a: unknown, b: unknown): unknown {
  if (a === undefined || a === null) return clone(b);
  if (b === undefined || b === null) return a;
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a || b;
  if (typeof a === 'object' && typeof b === 'object') {
    const out = a as Counters;
    for (const [k, v] of Object.entries(b as Counters)) out[k] = add(out[k], v);
    return out;
  }
  return a;
}

function clone(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}
