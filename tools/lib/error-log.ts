/**
 * Errors a tool counts and reports: every one is counted, the first few are kept as samples for
 * the report (a fleet of 500 clients that all fail the same way must not print 500 lines).
 */
export class ErrorLog {
  private readonly kept: string[] = [];
  private total = 0;

  /** `limit`: messages kept; `onError` sees every message (progress output). */
  constructor(readonly limit: number, private readonly onError?: (message: string) => void) {}

  note(message: string): void {
    this.total++;
    if (this.kept.length < this.limit) this.kept.push(message);
    this.onError?.(message);
  }

  get count(): number {
    return this.total;
  }

  /** The kept messages (a copy). */
  get samples(): string[] {
    return [...this.kept];
  }

  /** The kept messages plus, when some were not kept, a last line saying how many more. */
  summary(): string[] {
    const more = this.total - this.kept.length;
    return more > 0 ? [...this.kept, `... ${more} more`] : [...this.kept];
  }
}
