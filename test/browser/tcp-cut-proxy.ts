/**
 * A TCP proxy on loopback for browser tests that need a connection cut the way a network cuts
 * it: `cut()` destroys every connection passing through, `block(on)` refuses new ones (accepted
 * and destroyed at once) until lifted. The browser talks to the proxy's port, the proxy to the
 * real server.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpCutProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private blocked = false;
  /** Connections refused while blocked. */
  refused = 0;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number, host = '127.0.0.1'): Promise<TcpCutProxy> {
    let proxy: TcpCutProxy | null = null;
    const server = createServer((client) => {
      if (!proxy || proxy.blocked) {
        if (proxy) proxy.refused++;
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, host);
      const pair: [Socket, Socket] = [client, upstream];
      const p = proxy;
      p.pairs.add(pair);
      const end = () => {
        p.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const address = server.address();
    proxy = new TcpCutProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  /** Open connections through the proxy. */
  get open(): number {
    return this.pairs.size;
  }

  /** Destroys every connection through the proxy now. */
  cut(): void {
    for (const [a, b] of [...this.pairs]) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  block(on: boolean): void {
    this.blocked = on;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
