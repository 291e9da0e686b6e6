/**
 * `npm run bots -- --url http://127.0.0.1:8080 --transport ws|wt --count N --duration S`
 *
 * Runs N headless GameClients in this process (bot-run.ts) and prints, last, one JSON line
 * with the fleet's figures. Progress and errors go to stderr (with --verbose), so stdout's last
 * line is always the report.
 */
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../client/net/transport-types.js';
import { cliArgs } from '../lib/args.js';
import { writeJsonLine } from '../lib/json-lines.js';
import { BOT_USAGE, parseBotArgs } from './args.js';
import { runBotFleet } from './bot-run.js';

async function main(): Promise<number> {
  const args = cliArgs(() => parseBotArgs(process.argv.slice(2)), BOT_USAGE);
  // The bots send the server's own origin, as the demo page in a browser does: a server with
  // allowedOrigins (the demo's 'self') refuses sessions that name none.
  const origin = new URL(args.url).origin;
  class OriginWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { origin });
    }
  }
  // Load the QUIC stack only when a run can use WebTransport.
  const WebTransport = args.transport === 'ws' ? undefined : (await import('./node-webtransport.js')).nodeWebTransportWithOrigin(origin);
  const report = await runBotFleet({
    url: args.url,
    transport: args.transport,
    count: args.count,
    durationMs: args.durationS * 1000,
    seed: args.seed,
    room: args.room,
    WebSocket: OriginWebSocket as unknown as WebSocketConstructor,
    WebTransport,
    log: args.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  writeJsonLine(report);
  return report.connected === report.clients ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bots failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
