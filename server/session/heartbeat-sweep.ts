import type { Scheduler, Timer } from '../clock.js';

/** What the sweep calls once per interval: a session's heartbeat (ping due, idle check). */
export interface HeartbeatMember {
  beat(): void;
}

/**
 * One timer for the heartbeats of every session of a host, instead of one per session: each
 * interval the sweep calls `beat()` on every member. A timer per session fired P times a second
 * at P different instants, and each one woke an otherwise idle server (issue 12: at P=64 the
 * WebSocket server's extra kernel time over the Colyseus peer was mostly context switches). The
 * interval and the idle check keep their granularity: a member's beats are one interval apart;
 * only its first comes at the next sweep (up to one interval after it joined) rather than exactly
 * one interval after.
 *
 * Members are held while their heartbeat runs (PlayerSession adds itself on attach and leaves on
 * suspend and end): at most one entry per live session.
 */
export class HeartbeatSweep {
  private readonly members = new Set<HeartbeatMember>();
  private timer: Timer | null = null;

  constructor(private readonly scheduler: Scheduler, private readonly intervalMs: number) {}

  /** Beats `member` from the next sweep on (the sweep starts when its first member comes). */
  add(member: HeartbeatMember): void {
    this.members.add(member);
    if (!this.timer) this.timer = this.scheduler.after(this.intervalMs, () => this.sweep());
  }

  /** Stops beating `member`; with no member left the timer stops too. */
  delete(member: HeartbeatMember): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer) {
      this.timer.cancel();
      this.timer = null;
    }
  }

  /** Members beaten by the sweep (for tests and diagnostics). */
  get size(): number {
    return this.members.size;
  }

  private sweep(): void {
    this.timer = null;
    // A copy: a beat may take its member out (idle: suspended) or, through the room, others.
    for (const m of [...this.members]) {
      if (this.members.has(m)) m.beat();
    }
    if (this.members.size > 0 && !this.timer) this.timer = this.scheduler.after(this.intervalMs, () => this.sweep());
  }
}
