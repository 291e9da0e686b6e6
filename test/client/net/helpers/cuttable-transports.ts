/**
 * Transports a test hands a GameClient so that it can drop a connection deterministically at a
 * chosen message (the chat outbox tests): the real `ws` WebSocket and the real Node WebTransport
 * client, with the test's cut applied inside them.
 *
 * - `cut.chatSend`: the next chatSend the client writes is swallowed (the server never sees it)
 *   and the connection is dropped right there, as when a line goes into a connection that is
 *   already dead.
 * - `cut.chatAccepted`: the next chatAccepted the server sends is swallowed before the client
 *   sees it; with `dropOnAccepted` the connection is dropped there too (the answer died with it).
 */
import WebSocket from 'ws';
import { NodeWebTransport, type NodeWebTransportOptions } from '../../../../server/h3/index.js';
import { messageSpec } from '../../../../shared/messages.js';

const CHAT_SEND_ID = messageSpec('chatSend')!.id;
const CHAT_ACCEPTED_ID = messageSpec('chatAccepted')!.id;

/** What the test arms; each flag disarms itself when it fires. */
export const cut = { chatSend: false, chatAccepted: false, dropOnAccepted: true };

/** A WebSocket that applies `cut` to what the client sends and receives. */
export class CuttableWebSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    const bytes = data as Uint8Array;
    if (cut.chatSend && bytes[0] === CHAT_SEND_ID) {
      cut.chatSend = false;
      this.terminate();
      return;
    }
    (super.send as (...a: unknown[]) => void)(data, ...rest);
  }

  override addEventListener(type: string, listener: (event: unknown) => void, options?: unknown): void {
    const wrapped = type !== 'message' ? listener : (event: unknown) => {
      const data = (event as { data: unknown }).data;
      const first = data instanceof ArrayBuffer ? new Uint8Array(data)[0] : (data as Uint8Array)[0];
      if (cut.chatAccepted && first === CHAT_ACCEPTED_ID) {
        cut.chatAccepted = false;
        if (cut.dropOnAccepted) this.terminate();
        return;
      }
      listener(event);
    };
    (super.addEventListener as (...a: unknown[]) => void)(type, wrapped, options);
  }
}

/** Message id of one reliable-stream frame (`varint length | message`, RFC 9000 §16). */
function frameMessageId(frame: Uint8Array): number | undefined {
  return frame[1 << (frame[0] >> 6)];
}

/** A WebTransport session whose reliable stream applies `cut.chatSend` (the session is closed there). */
export class CuttableWebTransport extends NodeWebTransport {
  constructor(url: string, options?: NodeWebTransportOptions) {
    super(url, options);
  }

  override async createBidirectionalStream() {
    const stream = await super.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    const writable = new WritableStream<Uint8Array>({
      write: async (frame) => {
        if (cut.chatSend && frameMessageId(frame) === CHAT_SEND_ID) {
          cut.chatSend = false;
          this.close({ closeCode: 1, reason: 'cut by the test' });
          return;
        }
        await writer.write(frame);
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    });
    return { readable: stream.readable, writable };
  }
}
