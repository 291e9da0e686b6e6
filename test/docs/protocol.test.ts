// docs/protocol.md is the wire spec; this test fails when its tables and the code disagree.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RECORD_STRUCTURES } from '../../shared/codec.js';
import { ERRORS } from '../../shared/errors.js';
import * as limits from '../../shared/limits.js';
import { MESSAGES, PROTOCOL_VERSION } from '../../shared/messages.js';
import { describeType } from '../../shared/schema.js';
import * as snapshotFormat from '../../shared/snapshot/format.js';
import { SNAPSHOT_HISTORY_SIZE } from '../../shared/snapshot/history.js';
import { FORCE_AFTER, NEAR_RADIUS, NEAR_WEIGHT } from '../../shared/snapshot/priority.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/protocol.md', import.meta.url)), 'utf8');

/** The body of the section under `heading` (up to the next heading of the same or higher level). */
function section(heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`docs/protocol.md has no heading "${heading}"`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Rows of the first Markdown table in `text` whose header starts with `firstColumn`. */
function table(text: string, firstColumn: string): string[][] {
  const lines = text.split('\n');
  const split = (l: string) => l.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
  const head = lines.findIndex((l) => l.trim().startsWith('|') && split(l)[0] === firstColumn);
  if (head < 0) throw new Error(`no table starting with column "${firstColumn}"`);
  const rows: string[][] = [];
  for (let i = head + 2; i < lines.length && lines[i].trim().startsWith('|'); i++) rows.push(split(lines[i]));
  return rows;
}
const unquote = (s: string) => s.replace(/^`|`$/g, '');

describe('docs/protocol.md agrees with shared/', () => {
  it('states the protocol version', () => {
    expect(doc).toContain(`protocol version **${PROTOCOL_VERSION}**`);
  });

  it('message table: id, name, channel, direction, max bytes and fields', () => {
    const rows = table(section('## Messages'), 'id');
    expect(rows.map((r) => Number(r[0]))).toEqual(MESSAGES.map((m) => m.id));
    for (const [i, m] of MESSAGES.entries()) {
      const [id, name, channel, direction, maxBytes, fields] = rows[i];
      expect({ id: Number(id), name: unquote(name), channel, direction, maxBytes: Number(maxBytes) }, m.name)
        .toEqual({ id: m.id, name: m.name, channel: m.channel, direction: m.direction, maxBytes: m.maxBytes });
      if (m.schema) {
        const want = m.schema.fields.length
          ? m.schema.fields.map((f) => `\`${f.name}${f.optional ? '?' : ''}\`: ${describeType(f.type)}`).join('; ')
          : '(none)';
        expect(fields, m.name).toBe(want);
      } else {
        expect(fields, m.name).toMatch(/snapshot codec/);
      }
    }
  });

  it('record structures table', () => {
    const rows = table(section('## Message encoding'), 'record id');
    expect(rows.map((r) => Number(r[0]))).toEqual(RECORD_STRUCTURES.map((_, i) => 0x40 + i));
    expect(rows.map((r) => r[1].split(',').map((k) => unquote(k.trim())))).toEqual(RECORD_STRUCTURES.map((k) => [...k]));
  });

  it('error code table', () => {
    const rows = table(section('## Error codes'), 'code');
    expect(rows.map(([code, name, peer, description]) => ({ code: Number(code), name: unquote(name), peerCaused: peer === 'yes', description })))
      .toEqual(ERRORS.map((e) => ({ code: e.code, name: e.name, peerCaused: e.peerCaused, description: e.description })));
  });

  it('limits table lists every exported limit with its value', () => {
    const rows = table(section('## Limits'), 'name');
    const documented = Object.fromEntries(rows.map(([n, v]) => [unquote(n), unquote(v)]));
    const exported = Object.fromEntries(Object.entries(limits).map(([n, v]) => [n, v instanceof RegExp ? v.source : String(v)]));
    expect(documented).toEqual(exported);
  });

  it('snapshot quantization table lists every constant of shared/snapshot/format.ts', () => {
    const rows = table(section('### Quantization'), 'name');
    const documented = Object.fromEntries(rows.map(([n, v]) => [unquote(n), Number(v)]));
    const exported = Object.fromEntries(Object.entries(snapshotFormat).filter(([, v]) => typeof v === 'number'));
    expect(documented).toEqual(exported);
  });

  it('snapshot priority and history constants match the text', () => {
    const text = section('## Snapshots');
    expect(text).toContain(`\`NEAR_WEIGHT\` (${NEAR_WEIGHT})`);
    expect(text).toContain(`\`NEAR_RADIUS\` (${NEAR_RADIUS} units)`);
    expect(text).toContain(`\`FORCE_AFTER\` (${FORCE_AFTER})`);
    expect(text).toContain(`\`SNAPSHOT_HISTORY_SIZE\` = ${SNAPSHOT_HISTORY_SIZE}`);
    expect(text).toContain('byte 0        message id 35');
  });
});
