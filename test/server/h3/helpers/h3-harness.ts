/**
 * Unit-test harness for the HTTP/3 layer without UDP: an `H3Connection` over a
 * `ScriptedTransport`, with a `ManualScheduler` for its deadlines, a recording server policy,
 * and builders for the bytes a peer sends.
 */
import { ManualScheduler } from '../../../../server/clock.js';
import { H3Connection, type ConnectRequest, type H3ConnectionOptions } from '../../../../server/h3/h3-connection.js';
import { newH3Counters } from '../../../../server/h3/h3-counters.js';
import { PeerBufferBudget } from '../../../../server/h3/peer-buffers.js';
import type { SessionCloseInfo, WebTransportSession } from '../../../../server/h3/session.js';
import { encodeHeadersFrame } from '../../../../server/h3/wire/frames.js';
import { CLIENT_SETTINGS, SERVER_SETTINGS, encodeSettingsFrame } from '../../../../server/h3/wire/settings.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from '../../../../server/h3/wire/qpack/field-section.js';
import { buildConnectRequestHeaders, buildConnectResponseHeaders } from '../../../../server/h3/wire/connect-request.js';
import { FrameDecoder } from '../../../../server/h3/wire/frames.js';
import { ScriptedTransport, type TranscriptEntry } from './scripted-transport.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A peer's control stream: type 0x00 then SETTINGS (the client's by default). */
export const controlStream = (settings = CLIENT_SETTINGS): Uint8Array => cat(new Uint8Array([0x00]), encodeSettingsFrame(settings));
export const serverControlStream = (): Uint8Array => controlStream(SERVER_SETTINGS);
/** A WebTransport CONNECT request's HEADERS frame. */
export const connectHeaders = (path = '/wt', origin?: string): Uint8Array =>
  encodeHeadersFrame(encodeFieldSection(buildConnectRequestHeaders({ authority: 'example.test:4433', path, origin })));
export const headersFrame = (fields: HeaderField[]): Uint8Array => encodeHeadersFrame(encodeFieldSection(fields));
/** A response HEADERS frame with `status`. */
export const responseHeaders = (status: number): Uint8Array => encodeHeadersFrame(encodeFieldSection(buildConnectResponseHeaders(status, { draft02: true })));

/** The :status of the HEADERS frame in `hexBytes` (what the layer wrote), or null. */
export function statusOf(hexBytes: string): number | null {
  const dec = new FrameDecoder();
  dec.push(Buffer.from(hexBytes, 'hex'));
  const ev = dec.next();
  if (ev.status !== 'frame' || ev.type !== 0x01) return null;
  const fs = decodeFieldSection(ev.payload);
  if (fs.status !== 'ok') return null;
  const s = fs.headers.find(([n]) => n === ':status');
  return s ? Number(s[1]) : null;
}

export interface Harness {
  t: ScriptedTransport;
  h3: H3Connection;
  clock: ManualScheduler;
  budget: PeerBufferBudget;
  /** Sessions the server policy opened (server role). */
  sessions: WebTransportSession[];
  /** Close infos of those sessions, by session id. */
  closes: Map<number, SessionCloseInfo>;
  /** CONNECT requests the policy was asked about. */
  requests: ConnectRequest[];
  /** Transcript entries of one kind, optionally on one stream. */
  ops<K extends TranscriptEntry['op']>(op: K, id?: number): Array<Extract<TranscriptEntry, { op: K }>>;
}

export interface HarnessOptions extends Partial<H3ConnectionOptions> {
  /** Server policy's answer for a path (default: '/wt' 200, else 404). */
  decide?: (req: ConnectRequest) => number;
  /** Called for every session the server opens. */
  onSession?: (s: WebTransportSession) => void;
}

/** A connection in `role` over a scripted transport; the handshake is done unless `established: false`. */
export function harness(role: 'server' | 'client', options: HarnessOptions & { established?: boolean } = {}): Harness {
  const t = new ScriptedTransport(role);
  const clock = new ManualScheduler(0);
  const budget = options.budget ?? new PeerBufferBudget();
  const sessions: WebTransportSession[] = [];
  const closes = new Map<number, SessionCloseInfo>();
  const requests: ConnectRequest[] = [];
  const decide = options.decide ?? ((req: ConnectRequest) => (req.path === '/wt' ? 200 : 404));
  const h3 = new H3Connection(t, {
    role,
    counters: newH3Counters(),
    scheduler: clock,
    budget,
    policy: role === 'server'
      ? {
        decide: (req) => {
          requests.push(req);
          return decide(req);
        },
        onSession: (s) => {
          sessions.push(s);
          s.onClose = (info) => closes.set(s.id, info);
          options.onSession?.(s);
        },
      }
      : undefined,
    ...options,
  });
  if (options.established !== false) t.established();
  const ops = <K extends TranscriptEntry['op']>(op: K, id?: number) =>
    t.transcript.filter((e): e is Extract<TranscriptEntry, { op: K }> => e.op === op && (id === undefined || (e as { id?: number }).id === id));
  return { t, h3, clock, budget, sessions, closes, requests, ops };
}

/** A server with the client's SETTINGS in and one session open on stream 0. */
export function serverWithSession(options: HarnessOptions = {}): Harness {
  const h = harness('server', options);
  h.t.data(2, controlStream());
  h.t.data(0, connectHeaders());
  if (h.sessions.length !== 1) throw new Error('serverWithSession: no session');
  return h;
}
