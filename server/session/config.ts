/** Session timing and limits; every one can be overridden per server (tests shorten them). */
export interface SessionTimings {
  /** A connection must send a valid hello within this time, else HELLO_TIMEOUT. */
  helloTimeoutMs: number;
  /** Server pings each client this often over the unreliable channel (heartbeat and RTT). */
  heartbeatIntervalMs: number;
  /** Nothing heard from a client for this long: close IDLE_TIMEOUT (the session may resume). */
  idleTimeoutMs: number;
  /** A session without a connection keeps its entity and chat position this long. */
  resumeWindowMs: number;
}

export const DEFAULT_SESSION_TIMINGS: Readonly<SessionTimings> = Object.freeze({
  helloTimeoutMs: 5_000,
  heartbeatIntervalMs: 1_000,
  // Several missed heartbeats, and longer than the client's own silence watchdog, so the
  // client notices a dead server before the server gives up on it.
  idleTimeoutMs: 10_000,
  resumeWindowMs: 30_000,
});

/** Chat lines a brand-new session receives after its welcome (newest ones from the history ring). */
export const CHAT_JOIN_HISTORY = 50;
/** Bytes of a resume token before base64url: 144 random bits, unguessable. */
export const RESUME_TOKEN_BYTES = 18;
