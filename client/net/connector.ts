import type { ChannelName, ClientChannel } from './channel.js';
import { certificateHashesFrom, fetchConnectInfo, webSocketUrl, type ConnectInfo } from './connect-info.js';
import type { TransportPreference } from './game-client-types.js';
import { reliableFraming } from './reliable-framing.js';
import type { FetchLike, TimerApi, WebSocketConstructor, WebTransportConstructor } from './transport-types.js';
import { WebSocketChannel } from './websocket-channel.js';
import { WebTransportChannel } from './webtransport-channel.js';

export interface OpenChannelOptions {
  baseUrl: string;
  preference: TransportPreference;
  WebTransport: WebTransportConstructor | undefined;
  WebSocket: WebSocketConstructor | undefined;
  fetch: FetchLike | undefined;
  timers: TimerApi;
  channelOf: (message: Uint8Array) => ChannelName;
  webTransportTimeoutMs?: number;
  /** The join ticket: a cluster node routes connect-info by its room. */
  ticket?: string;
}

export interface OpenedChannel {
  channel: ClientChannel;
  info: ConnectInfo;
  /** Set when 'auto' wanted WebTransport but used WebSocket: why. */
  fallbackReason?: string;
}

/**
 * One transport-level connection attempt: fetch connect-info, then WebTransport (with the
 * published certificate hashes) and/or WebSocket per the preference. In 'auto', WebSocket is
 * used when WebTransport is missing, unoffered, fails, or is not ready in time.
 */
export async function openChannel(o: OpenChannelOptions): Promise<OpenedChannel> {
  if (!o.fetch) throw new Error('no fetch implementation: pass options.fetch');
  const info = await fetchConnectInfo(o.fetch, o.baseUrl, undefined, o.ticket);

  const openWs = async (): Promise<ClientChannel> => {
    if (!o.WebSocket) throw new Error('no WebSocket implementation: pass options.WebSocket');
    return WebSocketChannel.open(o.WebSocket, info.webSocketUrl ?? webSocketUrl(o.baseUrl, info.webSocketPath), o.channelOf, o.timers);
  };
  const openWt = async (): Promise<ClientChannel> => {
    if (!o.WebTransport) throw new Error('WebTransport is not available');
    if (!info.webTransportUrl) throw new Error('server offers no WebTransport endpoint');
    return WebTransportChannel.open({
      WebTransportImpl: o.WebTransport,
      url: info.webTransportUrl,
      certificateHashes: certificateHashesFrom(info),
      framing: reliableFraming,
      timers: o.timers,
      readyTimeoutMs: o.webTransportTimeoutMs,
    });
  };

  if (o.preference === 'websocket') return { channel: await openWs(), info };
  if (o.preference === 'webtransport') return { channel: await openWt(), info };
  try {
    return { channel: await openWt(), info };
  } catch (error) {
    const fallbackReason = error instanceof Error ? error.message : String(error);
    return { channel: await openWs(), info, fallbackReason };
  }
}
