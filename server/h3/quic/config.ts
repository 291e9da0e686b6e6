/**
 * Builds quiche `Config` objects for the server and client roles from PEM strings and a few
 * options. Everything about TLS and transport parameters lives here so both roles agree.
 */
import { quiche } from '@matrixai/quic/native/index.js';
import type { Config } from '@matrixai/quic/native/index.js';
import {
  DATAGRAM_RECV_QUEUE_LEN,
  DATAGRAM_SEND_QUEUE_LEN,
  DEFAULT_IDLE_TIMEOUT_MS,
  INITIAL_MAX_DATA,
  INITIAL_MAX_STREAM_DATA,
  INITIAL_MAX_STREAMS_BIDI,
  INITIAL_MAX_STREAMS_UNI,
  MAX_ACK_DELAY_MS,
  MAX_UDP_PAYLOAD,
} from './limits.js';

/** Signature algorithms BoringSSL supports that matter for WebTransport dev certs (ECDSA first). */
const SIGALGS = [
  'ecdsa_secp256r1_sha256',
  'ecdsa_secp384r1_sha384',
  'ed25519',
  'rsa_pss_rsae_sha256',
  'rsa_pkcs1_sha256',
].join(':');

export interface QuicConfigOptions {
  /** ALPN protocols offered (client) or accepted (server). WebTransport uses ['h3']. */
  alpn: string[];
  /** QUIC idle timeout in ms (RFC 9000 §10.1); 0 disables it. */
  idleTimeoutMs?: number;
  /** Server role: certificate chain and private key, PEM. */
  certPem?: string;
  keyPem?: string;
  /**
   * Client role: when true, quiche does no CA verification and the caller must verify the peer
   * itself (certificate hash pinning does this through `peerCertChain()`).
   */
  skipCaVerification?: boolean;
  /** Extra CA certificates (PEM) for client verification against a private CA. */
  caPem?: string;
  /** Flow-control windows; defaults from limits.ts. */
  initialMaxData?: number;
  initialMaxStreamData?: number;
  initialMaxStreamsBidi?: number;
  initialMaxStreamsUni?: number;
}

const encoder = new TextEncoder();

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----\s*/g) ?? [];
}

/** Creates a quiche Config for the server role. Throws (at startup, never per packet) on bad PEM. */
export function buildServerConfig(options: QuicConfigOptions): Config {
  if (!options.certPem || !options.keyPem) throw new Error('server config needs certPem and keyPem');
  const certChain = pemBlocks(options.certPem).join('');
  const config = quiche.Config.withBoringSslCtx(
    false, false, null,
    [encoder.encode(options.keyPem)],
    [encoder.encode(certChain)],
    SIGALGS,
  );
  applyCommon(config, options);
  return config;
}

/** Creates a quiche Config for the client role. */
export function buildClientConfig(options: QuicConfigOptions): Config {
  const verify = !options.skipCaVerification;
  // verifyAllowFail=true when skipping: BoringSSL still requests and records the peer chain, so
  // the caller can pin it by hash after the handshake.
  const config = quiche.Config.withBoringSslCtx(
    true, !verify,
    options.caPem ? encoder.encode(options.caPem) : null,
    null, null, SIGALGS,
  );
  applyCommon(config, options);
  return config;
}

function applyCommon(config: Config, options: QuicConfigOptions): void {
  config.grease(true);
  config.setMaxIdleTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  config.setMaxRecvUdpPayloadSize(MAX_UDP_PAYLOAD);
  config.setMaxSendUdpPayloadSize(MAX_UDP_PAYLOAD);
  config.setInitialMaxData(options.initialMaxData ?? INITIAL_MAX_DATA);
  config.setInitialMaxStreamDataBidiLocal(options.initialMaxStreamData ?? INITIAL_MAX_STREAM_DATA);
  config.setInitialMaxStreamDataBidiRemote(options.initialMaxStreamData ?? INITIAL_MAX_STREAM_DATA);
  config.setInitialMaxStreamDataUni(options.initialMaxStreamData ?? INITIAL_MAX_STREAM_DATA);
  config.setInitialMaxStreamsBidi(options.initialMaxStreamsBidi ?? INITIAL_MAX_STREAMS_BIDI);
  config.setInitialMaxStreamsUni(options.initialMaxStreamsUni ?? INITIAL_MAX_STREAMS_UNI);
  // We hold lone ACKs up to ACK_COALESCE_MS (endpoint.ts); tell the peer so (RFC 9000 §13.2.1).
  config.setMaxAckDelay(MAX_ACK_DELAY_MS);
  // RFC 9221: DATAGRAM frames carry HTTP datagrams (RFC 9297) and so WebTransport datagrams.
  config.enableDgram(true, DATAGRAM_RECV_QUEUE_LEN, DATAGRAM_SEND_QUEUE_LEN);
  // We route by connection id only and never migrate; a peer's port rebinding is still fine.
  config.setDisableActiveMigration(true);
  config.setApplicationProtos(options.alpn);
}
