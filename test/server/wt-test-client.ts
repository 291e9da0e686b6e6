/**
 * A raw game client over real WebTransport for server tests, the WebTransport twin of
 * ws-test-client.ts: opens the session and its reliable stream, writes frames of the test's
 * choosing (good or bad) and records every message the server sends on that stream.
 */
import { NodeWebTransport } from '../../server/h3/index.js';
import { decodeMessage, encodeMessage } from '../../shared/codec.js';
import { encodeFrame } from '../../shared/framing.js';
import { readFrames } from '../../tools/lib/read-frames.js';
import { PROTOCOL_VERSION, type MessageBodies } from '../../shared/messages.js';

export interface WtGameClient {
  wt: NodeWebTransport;
  /** The reliable stream's writer: raw bytes (frames are the caller's). */
  writer: WritableStreamDefaultWriter<Uint8Array>;
  received: { name: string; body: unknown }[];
  /** The session's close code once closed (-1: the connection was lost), else null. */
  readonly closeCode: number | null;
  /** Sends a hello in a frame. */
  hello(ticket: string): Promise<void>;
  of<K extends keyof MessageBodies>(name: K): MessageBodies[K][];
}

/**
 * Opens a session to `url` (pinned to `hash`) and its reliable stream. `track` gets the
 * transport before it is ready, so a test's cleanup closes it whatever happens.
 */
export async function wtGameClient(url: string, hash: Uint8Array, track: NodeWebTransport[]): Promise<WtGameClient> {
  const wt = new NodeWebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
  track.push(wt);
  await wt.ready;
  const bidi = await wt.createBidirectionalStream();
  const writer = bidi.writable.getWriter();
  const received: { name: string; body: unknown }[] = [];
  void readFrames(bidi.readable, (f) => {
    const r = decodeMessage(f, { channel: 'reliable', direction: 's2c' });
    if (r.ok) received.push({ name: r.name, body: r.body });
  });
  let closedWith: number | null = null;
  void wt.closed.then((i) => { closedWith = i.closeCode; }, () => { closedWith = -1; });
  return {
    wt, writer, received,
    get closeCode() { return closedWith; },
    hello: (ticket) => writer.write(encodeFrame(encodeMessage('hello', { v: PROTOCOL_VERSION, ticket }))),
    of<K extends keyof MessageBodies>(name: K) { return received.filter((m) => m.name === name).map((m) => m.body as MessageBodies[K]); },
  };
}
