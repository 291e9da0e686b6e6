/**
 * Calling application code from the HTTP/3 layer. Callbacks such as `server.onSession`,
 * `session.onDatagram` or `stream.onData` run inside the UDP receive path and our timers: a throw
 * that unwound through there would crash the process or leave the endpoint and every other
 * connection on it half-updated. So every application callback is called through
 * `invokeCallback`, which hands a throw (or the rejection of a promise an async callback
 * returned) to a `fail` function instead; the HTTP/3 layer's `fail` counts it
 * (`H3Counters.callbackErrors`) and aborts only the session the callback belongs to.
 */

/** What to do with an error an application callback threw or rejected with. Must not throw. */
export type CallbackFailure = (error: unknown) => void;

/**
 * Calls `fn` (with `thisArg` as `this`, arguments `a` and `b`) when it is set. A synchronous
 * throw goes to `fail`; when `fn` returns a promise (an async callback), its rejection goes to
 * `fail` later. Never throws itself, unless `fail` does.
 */
export function invokeCallback<A = undefined, B = undefined>(
  thisArg: unknown,
  fn: ((a: A, b: B) => unknown) | null | undefined,
  fail: CallbackFailure,
  a?: A,
  b?: B,
): void {
  if (!fn) return;
  let r: unknown;
  try {
    r = fn.call(thisArg, a as A, b as B);
  } catch (e) {
    fail(e);
    return;
  }
  if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
    // An async callback: its rejection would otherwise be an unhandled rejection (which Node
    // turns into an uncaught exception by default).
    (r as PromiseLike<unknown>).then(undefined, (e: unknown) => {
      try {
        fail(e);
      } catch {
        // `fail` must not throw; if it did, there is nobody left to tell.
      }
    });
  }
}
