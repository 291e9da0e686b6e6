/**
 * Server-Sent Events on the wire (WHATWG HTML, "Server-sent events", §9.2.5 "Parsing an event
 * stream"): UTF-8 lines `field: value`, an event ends with a blank line, a line starting with a
 * colon is a comment. Pure: the stream writer (sse-stream.ts) sends what this returns.
 */

export interface SseEvent {
  /** `event:` field (the listener name in EventSource); none means "message". */
  event?: string;
  /** `id:` field: the client sends it back as Last-Event-ID when it reconnects. */
  id?: string | number;
  /** `data:` payload; a string is sent as it is (one `data:` line per line), anything else as JSON. */
  data?: unknown;
  /** `retry:` field: the reconnection time the client should use, in ms. */
  retry?: number;
}

// A field value may not hold a line break (CR, LF) and an id may not hold NUL either: the parser
// would end the field there (and ignore an id with NUL, §9.2.6).
const LINE_BREAK = /[\r\n]/;
const BAD_ID = /[\r\n\0]/;

/** The text of one event, ending with the blank line that dispatches it. Throws on a field a client would misparse. */
export function formatSseEvent(e: SseEvent): string {
  let out = '';
  if (e.event !== undefined) {
    if (LINE_BREAK.test(e.event)) throw new RangeError('SSE event name with a line break');
    out += `event: ${e.event}\n`;
  }
  if (e.id !== undefined) {
    const id = String(e.id);
    if (BAD_ID.test(id)) throw new RangeError('SSE id with a line break or NUL');
    out += `id: ${id}\n`;
  }
  if (e.retry !== undefined) {
    if (!Number.isInteger(e.retry) || e.retry < 0) throw new RangeError('SSE retry must be a non-negative integer');
    out += `retry: ${e.retry}\n`;
  }
  if (e.data !== undefined) {
    const text = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
    // Every line of the payload is its own data: field; the client joins them with LF.
    for (const line of text.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  }
  return `${out}\n`;
}

/** A comment line (ignored by clients): the heartbeat that keeps proxies and NATs from closing an idle stream. */
export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}
