// Lint is here mainly to enforce the layering of docs/DESIGN (see ../shared/DESIGN.md):
// shared/ is I/O-free, server/h3 knows nothing of the game, game layers see only `Connection`,
// and only server/main.ts reads the environment.
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
          { group: ['**/server/**', '../server/*', '**/client/**', 'fastify', '@fastify/*', 'ws', '@matrixai/*', 'pixi.js'], message: 'shared/ imports nothing from server/, client/ or I/O packages.' },
        ],
      }],
      'no-restricted-globals': ['error', ...browserOnlyGlobals, { name: 'process', message: 'shared/ must not read the environment.' }],
    },
  },
  {
    files: ['server/h3/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          // The top-level client/ is game code; server/h3/client/ (the Node WebTransport) is this layer's own.
          { group: ['**/shared/**', '**/rooms/**', '**/session/**', '**/chat/**', '**/transports/**', '**/http/**', '../../client/**', '../../../client/**', '../../../../client/**', 'fastify', '@fastify/*'], message: 'server/h3 imports nothing of the game.' },
        ],
      }],
    },
  },
  {
    files: ['server/rooms/**/*.ts', 'server/session/**/*.ts', 'server/chat/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/h3/**', '**/http/**', 'fastify', '@fastify/*', 'ws', '@matrixai/*', 'node:dgram', 'node:net', 'dgram', 'net'], message: 'rooms, sessions and chat see only the Connection interface.' },
          { group: ['**/transports/*', '!**/transports/connection.js'], message: 'Import only the Connection interface from transports.' },
        ],
      }],
    },
  },
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
          { group: ['**/server/**'], message: 'client/ code runs in the browser; the Node WebTransport is injected.' },
        ],
      }],
    },
  },
  {
    files: ['server/**/*.ts', 'shared/**/*.ts', 'client/**/*.ts'],
    ignores: ['server/main.ts', 'server/bots/cli.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only server/main.ts (the CLI) reads the environment; pass options instead.' },
        { object: 'process', property: 'argv', message: 'Only the CLIs read argv.' }],
    },
  },
);
