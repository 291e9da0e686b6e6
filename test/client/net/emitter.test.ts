import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../client/net/emitter.js';

interface Ev {
  a: number;
  error: { message: string };
}

describe('TypedEmitter', () => {
  it('delivers to listeners in order and unsubscribes', () => {
    const e = new TypedEmitter<Ev>();
    const got: number[] = [];
    const off = e.on('a', (n) => got.push(n));
    e.on('a', (n) => got.push(n * 10));
    e.emit('a', 1);
    off();
    e.emit('a', 2);
    expect(got).toEqual([1, 10, 20]);
  });

  it('once fires a single time', () => {
    const e = new TypedEmitter<Ev>();
    let n = 0;
    e.once('a', () => n++);
    e.emit('a', 1);
    e.emit('a', 1);
    expect(n).toBe(1);
    expect(e.listenerCount('a')).toBe(0);
  });

  it('a throwing listener does not stop the others and is reported', () => {
    const reported: unknown[] = [];
    const e = new TypedEmitter<Ev>((err) => reported.push(err));
    const got: number[] = [];
    e.on('a', () => {
      throw new Error('boom');
    });
    e.on('a', (n) => got.push(n));
    expect(() => e.emit('a', 7)).not.toThrow();
    expect(got).toEqual([7]);
    expect(reported).toHaveLength(1);
  });
});
