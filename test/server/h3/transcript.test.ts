/**
 * The HTTP/3 layer's exact output for scripted peers, pinned byte for byte: every write (hex),
 * reset, STOP_SENDING, datagram and close the layer hands to QUIC, and every application event,
 * for a table of scenarios in both roles. The expected transcripts in
 * `golden/h3-transcripts.json` were recorded from the HTTP/3 connection before it was split into
 * modules (issue 11: behaviour unchanged); a change to them is a change of wire behaviour and
 * must be deliberate (TICKWIRE_UPDATE_GOLDEN=1 rewrites the file).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { H3Connection, type ConnectRequest } from '../../../server/h3/h3-connection.js';
import { newH3Counters } from '../../../server/h3/h3-counters.js';
import type { WebTransportSession } from '../../../server/h3/session.js';
import { encodeFrame, encodeGoawayFrame, encodeHeadersFrame, encodeDataFrame } from '../../../server/h3/wire/frames.js';
import { CLIENT_SETTINGS, SERVER_SETTINGS, encodeSettingsFrame } from '../../../server/h3/wire/settings.js';
import { encodeFieldSection } from '../../../server/h3/wire/qpack/field-section.js';
import { buildConnectRequestHeaders, buildConnectResponseHeaders } from '../../../server/h3/wire/connect-request.js';
import { encodeWtBidiStreamHeader, encodeWtUniStreamHeader } from '../../../server/h3/wire/wt-streams.js';
import { encodeCapsule, encodeCloseSessionCapsule, encodeDrainSessionCapsule } from '../../../server/h3/wire/capsules.js';
import { encodeDatagram } from '../../../server/h3/wire/datagram.js';
import { ScriptedTransport } from './helpers/scripted-transport.js';

const GOLDEN = fileURLToPath(new URL('./golden/h3-transcripts.json', import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** The peer's control stream bytes: type 0x00 then SETTINGS. */
const control = (settings = CLIENT_SETTINGS) => cat(new Uint8Array([0x00]), encodeSettingsFrame(settings));
const connectHeaders = (path = '/wt', origin?: string) =>
  encodeHeadersFrame(encodeFieldSection(buildConnectRequestHeaders({ authority: 'example.test:4433', path, origin })));
const response = (status: number) => encodeHeadersFrame(encodeFieldSection(buildConnectResponseHeaders(status, { draft02: true })));

interface Harness {
  t: ScriptedTransport;
  h3: H3Connection;
  events: unknown[];
  sessions: WebTransportSession[];
}

/** A server-role connection whose policy opens '/wt', refuses '/forbidden' (403), else 404. */
function server(): Harness {
  const t = new ScriptedTransport('server');
  const events: unknown[] = [];
  const sessions: WebTransportSession[] = [];
  const h3 = new H3Connection(t, {
    role: 'server',
    counters: newH3Counters(),
    policy: {
      decide: (req: ConnectRequest) => {
        events.push({ ev: 'decide', path: req.path, origin: req.origin, streamId: req.streamId });
        return req.path === '/wt' ? 200 : req.path === '/forbidden' ? 403 : 404;
      },
      onSession: (s) => {
        sessions.push(s);
        events.push({ ev: 'session', id: s.id, path: s.path, origin: s.origin, remote: s.remoteAddress });
        watch(s, events);
      },
      onSessionClosed: (s) => events.push({ ev: 'sessionClosed', id: s.id }),
    },
    onClosed: (info) => events.push({ ev: 'closed', ...info }),
  });
  return { t, h3, events, sessions };
}

/** Echo behaviour plus a record of every session and stream callback. */
function watch(s: WebTransportSession, events: unknown[]): void {
  s.onDatagram = (d) => {
    events.push({ ev: 'datagram', session: s.id, hex: hex(d) });
    s.sendDatagram(d);
  };
  s.onBidiStream = (st) => {
    events.push({ ev: 'bidi', session: s.id, stream: st.id });
    st.onData = (d) => {
      events.push({ ev: 'data', stream: st.id, hex: hex(d) });
      st.write(d);
    };
    st.onEnd = () => {
      events.push({ ev: 'end', stream: st.id });
      st.end();
    };
    st.onReset = (code, h3) => events.push({ ev: 'reset', stream: st.id, code, h3 });
    st.onStopSending = (code, h3) => events.push({ ev: 'stopSending', stream: st.id, code, h3 });
    st.onSessionClosed = () => events.push({ ev: 'streamSessionClosed', stream: st.id });
  };
  s.onUniStream = (st) => {
    events.push({ ev: 'uni', session: s.id, stream: st.id });
    st.onData = (d) => {
      events.push({ ev: 'data', stream: st.id, hex: hex(d) });
      s.sendDatagram(d);
    };
    st.onEnd = () => events.push({ ev: 'end', stream: st.id });
    st.onSessionClosed = () => events.push({ ev: 'streamSessionClosed', stream: st.id });
  };
  s.onDrain = () => events.push({ ev: 'drain', session: s.id });
  s.onClose = (info) => events.push({ ev: 'sessionClose', session: s.id, code: info.code, reason: info.reason, byPeer: info.byPeer, http3Code: info.http3Code, error: info.error === undefined ? undefined : String(info.error) });
}

/** Server with the peer's SETTINGS in and one open session on stream 0. */
function serverWithSession(): Harness {
  const h = server();
  h.t.established();
  h.t.data(2, control());
  h.t.data(0, connectHeaders());
  return h;
}

const serverScenarios: Record<string, (h: Harness) => void> = {
  'handshake: control stream and SETTINGS': (h) => h.t.established(),
  'peer control, QPACK and GREASE streams; a CONNECT opens a session': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(6, new Uint8Array([0x02]));
    h.t.data(10, new Uint8Array([0x03, 0x01]));
    h.t.data(14, new Uint8Array([0x40, 0x21, 1, 2, 3]));
    h.t.data(2, encodeFrame(0x21 + 0x1f * 3, enc('grease frame')));
    h.t.data(0, connectHeaders('/wt', 'https://game.example'));
  },
  'CONNECT before SETTINGS waits for them': (h) => {
    h.t.established();
    h.t.data(0, connectHeaders());
    h.t.data(4, connectHeaders('/nope'));
    h.t.data(2, control());
  },
  'refusals: 404, 403, malformed request, plain GET, request after FIN': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(0, connectHeaders('/missing'));
    h.t.data(4, connectHeaders('/forbidden'));
    h.t.data(8, encodeHeadersFrame(encodeFieldSection([[':method', 'CONNECT'], [':protocol', 'webtransport'], [':path', '/wt']])));
    h.t.data(12, encodeHeadersFrame(encodeFieldSection([[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', '/']])));
    h.t.data(16, new Uint8Array(0), true);
  },
  'WebTransport streams, datagrams and the session close by the application': (h) => {
    const s = h.sessions[0];
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('ping')));
    h.t.data(4, enc('!'), true);
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('uni')));
    h.t.datagram(encodeDatagram(0, enc('dgram')));
    h.t.datagram(encodeDatagram(400, enc('nobody')));
    h.t.datagram(new Uint8Array([0x80, 0, 0, 0, 0]));
    const out = s.openBidiStream()!;
    out.write(enc('from server'));
    const uni = s.openUniStream()!;
    uni.write(enc('uni from server'));
    uni.end();
    s.close(4009, 'draining ✓');
    h.t.flush();
  },
  'streams that overtake their CONNECT are buffered and adopted': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('early')));
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('early bidi')), true);
    h.t.data(0, connectHeaders());
  },
  'peer CLOSE capsule, then FIN; a late stream gets WT_SESSION_GONE': (h) => {
    h.t.data(0, encodeDataFrame(encodeCloseSessionCapsule(77, 'done')));
    h.t.data(0, new Uint8Array(0), true);
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('late')));
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('late')));
  },
  'drain: GOAWAY and DRAIN capsule; a request after GOAWAY is rejected; peer DRAIN': (h) => {
    h.h3.drain();
    h.t.data(0, encodeDataFrame(encodeDrainSessionCapsule()));
    h.t.data(8, connectHeaders());
  },
  'malformed capsule closes the session; unknown capsules are skipped': (h) => {
    h.t.data(4, connectHeaders());
    h.t.data(0, encodeDataFrame(encodeCapsule(0x1234, enc('unknown'))));
    h.t.data(0, encodeDataFrame(encodeCapsule(0x2843, new Uint8Array(2))));
  },
  'peer resets the CONNECT stream; peer bare FIN on another': (h) => {
    h.t.data(4, connectHeaders());
    h.t.data(8, cat(encodeWtBidiStreamHeader(4), enc('x')));
    h.t.reset(0, 0x10c);
    h.t.data(4, new Uint8Array(0), true);
  },
  'stream resets and STOP_SENDING on WebTransport streams': (h) => {
    const s = h.sessions[0];
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('a')));
    h.t.reset(4, 0x52e4a40fa8db + 7);
    h.t.stopped(4, 0x52e4a40fa8db + 8);
    const out = s.openBidiStream()!;
    h.t.stopped(out.id, null);
    h.t.reset(out.id, 0x10c);
    const st = s.openBidiStream()!;
    st.reset(12);
    st.stopSending(13);
  },
  'connection errors: second SETTINGS': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(2, encodeSettingsFrame(CLIENT_SETTINGS));
    h.t.flush();
  },
  'connection errors: DATA on a new request stream': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(0, encodeDataFrame(enc('body')));
    h.t.flush();
  },
  'connection errors: control stream not starting with SETTINGS': (h) => {
    h.t.established();
    h.t.data(2, cat(new Uint8Array([0x00]), encodeGoawayFrame(0)));
    h.t.flush();
  },
  'connection errors: second control stream, push stream': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(6, new Uint8Array([0x01]));
    h.t.flush();
  },
  'connection errors: closing the control stream': (h) => {
    h.t.established();
    h.t.data(2, control(), true);
    h.t.flush();
  },
  'connection errors: resetting a QPACK stream': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(6, new Uint8Array([0x02, 0x20]));
    h.t.reset(6, 0x10c);
    h.t.flush();
  },
  'connection errors: second QPACK encoder stream': (h) => {
    h.t.established();
    h.t.data(6, new Uint8Array([0x02]));
    h.t.data(10, new Uint8Array([0x02]));
    h.t.flush();
  },
  'connection errors: GOAWAY from the client, then MAX_PUSH_ID, then HEADERS on control': (h) => {
    h.t.established();
    h.t.data(2, control());
    h.t.data(2, encodeGoawayFrame(0));
    h.t.data(2, encodeFrame(0x0d, new Uint8Array([0x05])));
    h.t.data(2, encodeHeadersFrame(new Uint8Array([0, 0])));
    h.t.flush();
  },
  'limits: requests before SETTINGS, sessions per connection, buffered streams': (h) => {
    h.t.established();
    for (let i = 0; i < 9; i++) h.t.data(i * 4, connectHeaders());
    h.t.data(2, control());
    for (let i = 9; i < 20; i++) h.t.data(i * 4, connectHeaders());
    for (let i = 0; i < 18; i++) h.t.data(6 + i * 4, cat(encodeWtUniStreamHeader(4000), enc('early')));
  },
  'request stream oddities: unknown frames, trailers, FIN with the WT header': (h) => {
    h.t.data(4, encodeFrame(0x21, enc('grease')));
    h.t.data(4, connectHeaders());
    h.t.data(4, encodeHeadersFrame(encodeFieldSection([['x-trailer', '1']])));
    h.t.data(0, encodeFrame(0x07, new Uint8Array([0])));
    h.t.flush();
  },
  'a WT stream with its header, data and FIN in one chunk; a refused write': (h) => {
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('all at once')), true);
    h.t.refuseWrites = true;
    const st = h.sessions[0].openBidiStream();
    h.events.push({ ev: 'openWhileRefusing', got: st === null ? null : st.id });
    h.t.refuseWrites = false;
  },
  'connection errors: Quarter Stream ID >= 2^60': (h) => {
    h.t.datagram(new Uint8Array([0xf0, 0, 0, 0, 0, 0, 0, 0, 1]));
    h.t.flush();
  },
  'a throwing onDatagram aborts its session with H3_INTERNAL_ERROR': (h) => {
    h.t.data(4, connectHeaders());
    h.sessions[0].onDatagram = () => {
      throw new Error('boom');
    };
    h.t.datagram(encodeDatagram(0, enc('x')));
    h.t.datagram(encodeDatagram(4, enc('y')));
  },
  'peer closes the connection with sessions open': (h) => {
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('a')));
    h.t.peerClosed({ code: 0x100, reason: 'bye' });
  },
  'datagram purge and size': (h) => {
    const s = h.sessions[0];
    s.sendDatagram(new Uint8Array([1, 2]));
    s.sendDatagram(new Uint8Array([3, 4]));
    s.purgeDatagrams((p) => p[0] === 1);
    h.events.push({ ev: 'maxDatagramSize', value: s.maxDatagramSize });
    s.sendDatagram(new Uint8Array(3000).fill(7));
  },
};

/** A client-role connection. */
function client(): Harness & { connects: unknown[] } {
  const t = new ScriptedTransport('client');
  const events: unknown[] = [];
  const sessions: WebTransportSession[] = [];
  const h3 = new H3Connection(t, {
    role: 'client',
    counters: newH3Counters(),
    onPeerSettings: (support) => events.push({ ev: 'peerSettings', ...support }),
    onGoaway: () => events.push({ ev: 'goaway' }),
    onClosed: (info) => events.push({ ev: 'closed', ...info }),
  });
  const connects: unknown[] = [];
  return { t, h3, events, sessions, connects };
}

async function connect(h: Harness, path = '/wt'): Promise<void> {
  await h.h3.connect('example.test:4433', path, 'https://game.example').then(
    (s) => {
      h.sessions.push(s);
      h.events.push({ ev: 'connected', id: s.id, drainReceived: s.drainReceived });
      watch(s, h.events);
    },
    (e: { status?: number; message: string }) => h.events.push({ ev: 'connectFailed', ...e }),
  );
}

const clientScenarios: Record<string, (h: Harness) => Promise<void>> = {
  'connect: 200 opens a session; server streams and capsules': async (h) => {
    h.t.established();
    h.t.data(3, cat(new Uint8Array([0x00]), encodeSettingsFrame(SERVER_SETTINGS)));
    const p = connect(h);
    h.t.data(0, response(200));
    await p;
    h.t.data(1, cat(encodeWtBidiStreamHeader(0), enc('server bidi')));
    h.t.data(7, cat(encodeWtUniStreamHeader(0), enc('server uni')), true);
    h.t.data(0, encodeDataFrame(encodeDrainSessionCapsule()));
    h.t.data(3, encodeGoawayFrame(4));
    h.sessions[0].close(1, 'bye');
    h.t.flush();
    h.t.data(0, new Uint8Array(0), true);
  },
  'connect: 404 and 1xx; reset; no response': async (h) => {
    h.t.established();
    h.t.data(3, cat(new Uint8Array([0x00]), encodeSettingsFrame(SERVER_SETTINGS)));
    const a = connect(h, '/a');
    h.t.data(0, response(103));
    h.t.data(0, response(404));
    await a;
    const b = connect(h, '/b');
    h.t.reset(4, 0x10b);
    await b;
    const c = connect(h, '/c');
    h.t.data(8, new Uint8Array(0), true);
    await c;
  },
  'client errors: server bidi stream without WT signal, push stream, bad GOAWAY id': async (h) => {
    h.t.established();
    h.t.data(3, cat(new Uint8Array([0x00]), encodeSettingsFrame(SERVER_SETTINGS)));
    h.t.data(3, encodeGoawayFrame(2));
    h.t.flush();
  },
  'client errors: server-initiated bidi stream without the WT signal': async (h) => {
    h.t.established();
    h.t.data(3, cat(new Uint8Array([0x00]), encodeSettingsFrame(SERVER_SETTINGS)));
    h.t.data(1, connectHeaders());
    h.t.flush();
  },
  'client errors: push stream without MAX_PUSH_ID': async (h) => {
    h.t.established();
    h.t.data(7, new Uint8Array([0x01, 0x00]));
    h.t.flush();
  },
  'connect after the connection closed fails': async (h) => {
    h.t.peerClosed({ code: 0x100, reason: 'gone' });
    await connect(h);
  },
};

async function record(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, run] of Object.entries(serverScenarios)) {
    const fresh = ['handshake', 'peer control', 'CONNECT before', 'refusals', 'streams that overtake', 'connection errors', 'limits'];
    const h = fresh.some((p) => name.startsWith(p)) ? server() : serverWithSession();
    const start = h.t.transcript.length;
    const startEvents = h.events.length;
    run(h);
    out[`server: ${name}`] = { transcript: h.t.since(start), events: h.events.slice(startEvents) };
    h.t.peerClosed({ reason: 'end of scenario' });
  }
  for (const [name, run] of Object.entries(clientScenarios)) {
    const h = client();
    await run(h);
    out[`client: ${name}`] = { transcript: h.t.transcript.slice(), events: h.events.slice() };
    h.t.peerClosed({ reason: 'end of scenario' });
  }
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

describe('HTTP/3 output transcripts (byte for byte)', () => {
  it('matches the recorded transcripts', async () => {
    const got = await record();
    if (process.env.TICKWIRE_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(got, null, 1)}\n`);
    const want = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) expect(got[k], k).toEqual(want[k]);
  });
});
