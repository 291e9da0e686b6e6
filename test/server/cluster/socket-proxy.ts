/**
 * Test helper: a unix-socket forwarder between one client and redis-server that can partition
 * that client alone (the server keeps serving everyone else), as a broken network link would.
 *
 * `freeze()` stops moving bytes in both directions (what arrives waits in the kernel buffers,
 * like TCP retransmitting into a dead link) and `thaw()` lets them flow again; `cut()` resets
 * every connection.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export interface SocketProxy {
  readonly url: string;
  freeze(): void;
  thaw(): void;
  cut(): void;
  close(): Promise<void>;
}

export async function startSocketProxy(targetPath: string, dir: string, name: string): Promise<SocketProxy> {
  const path = join(dir, `${name}.sock`);
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPath);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    // Plain 'data' forwarding, not pipe(): pipe() may resume a source on its own after a drain.
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
    if (frozen) { client.pause(); upstream.pause(); }
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.once('close', end);
    upstream.once('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    url: `unix://${path}`,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) { a.pause(); b.pause(); }
    },
    thaw() {
      frozen = false;
      for (const [a, b] of pairs) { a.resume(); b.resume(); }
    },
    cut() {
      for (const [a, b] of pairs) { a.destroy(); b.destroy(); }
    },
    close: () => new Promise<void>((resolve) => {
      for (const [a, b] of pairs) { a.destroy(); b.destroy(); }
      server.close(() => resolve());
    }),
  };
}
