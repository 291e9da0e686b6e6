// Lint is here mainly to enforce the layering of docs/DESIGN (see ../shared/DESIGN.md):
// shared/ is I/O-free, server/h3 knows nothing of the game, game layers see only `Connection`,
// server/ imports neither client/ nor the tools, the tools import nothing of test/, and only the
// CLIs read the environment and argv.
import tseslint from 'typescript-eslint';

const nodeIo = [
  'node:*', 'fs', 'fs/*', 'net', 'dgram', 'http', 'http2', 'https', 'tls', 'child_process', 'os',
  'path', 'process', 'worker_threads', 'cluster', 'dns', 'stream', 'crypto',
];
// Bare module names go in `paths` (exact match): as gitignore-style `patterns` a name such as
// 'net' or 'stream' would also match any relative path with a folder of that name
// (e.g. './net/game-client.js' inside client/).
const nodeIoMessage = 'shared/ and client/ code must stay free of Node I/O.';
const nodeIoPatterns = nodeIo.filter((n) => n.includes('*')).map((n) => ({ group: [n], message: nodeIoMessage }));
const nodeIoPaths = nodeIo.filter((n) => !n.includes('*')).map((name) => ({ name, message: nodeIoMessage }));

// Relative specifiers only name a top-level folder exactly when they climb back to the root, so
// folder rules are written per depth: from `server/h3/quic/x.ts` (3 folders down) the top-level
// client/ is `../../../client/...`, while `../client/...` is server/h3/client/ (the Node
// WebTransport, which the tools may use). Depths cover the deepest source files with room.
const MAX_DEPTH = 7;
const depths = Array.from({ length: MAX_DEPTH }, (_, i) => i + 1);
const up = (depth) => '../'.repeat(depth);
/** Globs of the .ts files exactly `depth` folders below the root, inside `folder`. */
const filesAt = (folder, depth) => {
  const below = depth - folder.split('/').length;
  return below < 0 ? null : [`${folder}/${'*/'.repeat(below)}*.ts`];
};
/** A pattern naming the top-level `folders` from a file `depth` folders down. */
const topLevel = (depth, folders, message) => ({ group: folders.map((f) => `${up(depth)}${f}/**`), message });
const serverMessage = 'server/ imports neither client/ (the browser\'s game code; server/h3/client is the Node WebTransport) nor the tools.';
const toolsMessage = {
  bench: 'bench/ imports nothing of test/; what the tools share lives in tools/lib.',
  experiments: 'experiments/ imports nothing of test/; what the tools share lives in tools/lib.',
  tools: 'tools/ (the library and the bots) imports nothing of test/, bench/ or experiments/, which use it.',
};

const browserOnlyGlobals = ['window', 'document', 'localStorage', 'location'].map((name) => ({
  name, message: 'shared/ must not touch browser I/O.',
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'client/dist/**', 'test-results/**', 'experiments/out/**', 'bench/out/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-restricted-globals': 'off',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeIoPaths,
        patterns: [
          ...nodeIoPatterns,
          { group: ['**/server/**', '../server/*', '**/client/**', '**/tools/**', 'fastify', '@fastify/*', 'ws', '@matrixai/*', 'pixi.js'], message: 'shared/ imports nothing from server/, client/, the tools or I/O packages.' },
        ],
      }],
      'no-restricted-globals': ['error', ...browserOnlyGlobals, { name: 'process', message: 'shared/ must not read the environment.' }],
    },
  },
  // server/: per depth, the folder's own patterns plus "not client/, not tools/". A later object
  // replaces an earlier one's rule for the files both match, so each specific one repeats it.
  ...depths.flatMap((depth) => [
    ['server', []],
    ['server/h3', [
      { group: ['**/shared/**', '**/rooms/**', '**/session/**', '**/chat/**', '**/transports/**', '**/http/**', 'fastify', '@fastify/*'], message: 'server/h3 imports nothing of the game.' },
    ]],
    ...['rooms', 'session', 'chat'].map((f) => [`server/${f}`, [
      { group: ['**/h3/**', '**/http/**', 'fastify', '@fastify/*', 'ws', '@matrixai/*', 'node:dgram', 'node:net', 'dgram', 'net'], message: 'rooms, sessions and chat see only the Connection interface.' },
      { group: ['**/transports/*', '!**/transports/connection.js'], message: 'Import only the Connection interface from transports.' },
    ]]),
  ].flatMap(([folder, patterns]) => {
    const files = filesAt(folder, depth);
    return files ? [{
      files,
      rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, topLevel(depth, ['client', 'tools'], serverMessage)] }] },
    }] : [];
  })),
  // The tools: bench/, experiments/ and tools/ never reach into test/, and the library and the
  // bots (tools/) do not depend on the benchmarks and experiments that use them.
  ...depths.flatMap((depth) => ['bench', 'experiments', 'tools'].flatMap((folder) => {
    const files = filesAt(folder, depth);
    const banned = folder === 'tools' ? ['test', 'bench', 'experiments'] : ['test'];
    return files ? [{ files, rules: { 'no-restricted-imports': ['error', { patterns: [topLevel(depth, banned, toolsMessage[folder])] }] } }] : [];
  })),
  {
    // The cluster's building blocks (docs/cluster.md) talk to Redis only; the game wires them in.
    files: ['server/cluster/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/h3/**', '**/http/**', '**/transports/**', '**/session/**', 'fastify', '@fastify/*', 'ws', '@matrixai/*', 'node:dgram', 'dgram'], message: 'server/cluster sees no transport, session or HTTP code: it is wired in by server/index.ts.' },
        ],
      }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeIoPaths,
        patterns: [
          ...nodeIoPatterns,
          { group: ['**/server/**', '**/tools/**'], message: 'client/ code runs in the browser; the Node WebTransport is injected.' },
        ],
      }],
    },
  },
  {
    files: ['server/**/*.ts', 'shared/**/*.ts', 'client/**/*.ts', 'tools/**/*.ts', 'bench/**/*.ts', 'experiments/**/*.ts'],
    // The CLIs: the demo server, the bots, every benchmark and the experiment, and the entry
    // scripts their harnesses start (each parses its argv with tools/lib/args.ts).
    ignores: ['server/main.ts', 'tools/bots/cli.ts', 'bench/*.ts', 'bench/standard-scene/run.ts', 'bench/standard-scene/*-entry.ts',
      'bench/standard-scene/profile-top.ts', 'experiments/run.ts', 'experiments/*-entry.ts',
      'bench/soak/run.ts', 'bench/soak/*-entry.ts', 'tools/demo-cluster.ts', 'bench/cluster/run.ts',
      'experiments/delay/check.ts', 'experiments/delay/*-entry.ts', 'experiments/report-cli.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only the CLIs read the environment; pass options instead.' },
        { object: 'process', property: 'argv', message: 'Only the CLIs read argv.' }],
    },
  },
);
