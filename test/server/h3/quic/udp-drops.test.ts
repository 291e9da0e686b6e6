import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { readUdpDrops, udpDropsForPort } from '../../../../server/h3/quic/udp-drops.js';

const HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ';
const row = (sl: number, local: string, drops: number) =>
  `  ${sl}: ${local} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${40000 + sl} 2 0000000000000000 ${drops}       `;

describe('udpDropsForPort', () => {
  it('sums the drops column of the sockets bound to the port (hex), ignoring others', () => {
    const text = [HEADER, row(1, '0100007F:1F90', 7), row(2, '00000000:1F90', 5), row(3, '0100007F:1F91', 100), ''].join('\n');
    expect(udpDropsForPort(text, 0x1f90)).toBe(12);
    expect(udpDropsForPort(text, 0x1f91)).toBe(100);
    expect(udpDropsForPort(text, 53)).toBeNull();
  });

  it('reads IPv6 listings (32 hex digits of address) the same way', () => {
    const text = [HEADER, row(0, '00000000000000000000000001000000:C350', 3)].join('\n');
    expect(udpDropsForPort(text, 50000)).toBe(3);
  });

  it('answers null for text that is not such a listing', () => {
    expect(udpDropsForPort('', 80)).toBeNull();
    expect(udpDropsForPort('garbage\n1: 2 3 4', 80)).toBeNull();
  });

  it('readUdpDrops adds IPv4 and IPv6 and answers null when /proc cannot be read', () => {
    const files: Record<string, string> = {
      '/proc/net/udp': [HEADER, row(1, '0100007F:0050', 2)].join('\n'),
      '/proc/net/udp6': [HEADER, row(1, '00000000000000000000000001000000:0050', 4)].join('\n'),
    };
    expect(readUdpDrops(80, (p) => files[p])).toBe(6);
    expect(readUdpDrops(80, () => { throw new Error('ENOENT'); })).toBeNull();
  });
});

describe('readUdpDrops on a real socket', () => {
  // Linux only (/proc/net/udp); CI runs on Linux, so there this always runs.
  it.runIf(existsSync('/proc/net/udp'))('counts what the kernel drops for a socket whose owner stopped reading', async () => {
    // A child binds a UDP socket on loopback, then blocks its event loop for 3 s (it never reads),
    // so the socket's receive buffer (the default ~208 KiB) fills and the kernel drops the rest.
    const child = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        process.stdout.write(s.address().port + '\\n');
        const end = Date.now() + 3000;
        while (Date.now() < end) {}
        process.exit(0);
      });
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sender = dgram.createSocket('udp4');
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
        child.once('exit', () => reject(new Error('child exited early')));
      });
      expect(readUdpDrops(port)).toBe(0);
      const SENT = 2000;
      const payload = Buffer.alloc(1000);
      await Promise.all(Array.from({ length: SENT }, () => new Promise<void>((resolve) => sender.send(payload, port, '127.0.0.1', () => resolve()))));
      const drops = readUdpDrops(port);
      expect(drops).not.toBeNull();
      // A few hundred fit the buffer; everything else was dropped and counted.
      expect(drops!).toBeGreaterThan(SENT / 2);
      expect(drops!).toBeLessThanOrEqual(SENT);
    } finally {
      sender.close();
      child.kill('SIGKILL');
    }
  }, 15_000);
});
