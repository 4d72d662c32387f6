#!/usr/bin/env node
// Copies into src/gen what this package needs of the monorepo, so that the published package
// carries its own copy and depends on nothing of the monorepo:
// - the generated protobuf code (client_pb.ts and what it imports) from proto/src/gen;
// - the hand-written codecs it reads answers with (and what they import) from proto/src/codec,
//   into src/gen/codec;
// - the key hash the gateway places keyed messages with, from libs/partition into
//   src/gen/partition (a producer chains each partition's batches, so it must know a keyed
//   message's partition as the gateway will choose it).
// src/gen is not committed: build, typecheck and test run this first, so it can never be stale.
// Files are written only when they changed, each atomically (tsc may be reading).
'use strict';
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const packageRoot = join(__dirname, '..');
const protoSrc = join(packageRoot, '..', '..', 'proto', 'src');
const partitionSrc = join(packageRoot, '..', 'partition', 'src');
const genTarget = join(packageRoot, 'src', 'gen');

/**
 * What is copied: from `source`, `entries` and every module they import (relative imports matching
 * `imports`), into `target`; `rewrite` adapts a file's text to its new place.
 */
const copies = [
  {
    source: join(protoSrc, 'gen', 'partq', 'v1'),
    target: join(genTarget, 'partq', 'v1'),
    entries: ['client_pb.ts'],
    imports: /from "\.\/([\w.-]+)\.js"/g,
    rewrite: (text) => text,
  },
  {
    source: join(protoSrc, 'codec'),
    target: join(genTarget, 'codec'),
    entries: ['consumed-messages-codec.ts', 'send-stream-codec.ts'],
    imports: /from '\.\/([\w.-]+)\.js'/g,
    // In proto the codecs sit beside gen/; here the generated code is their parent directory.
    rewrite: (text) => text.replaceAll("from '../gen/partq/", "from '../partq/"),
  },
  {
    source: partitionSrc,
    target: join(genTarget, 'partition'),
    entries: ['hash.ts'],
    imports: /from '\.\/([\w.-]+)\.js'/g,
    rewrite: (text) => text,
  },
];

let written = 0;
let total = 0;
for (const { source, target, entries, imports, rewrite } of copies) {
  const needed = new Map();
  const visit = (file) => {
    if (needed.has(file)) return;
    const path = join(source, file);
    if (!existsSync(path)) {
      console.error(`sync-proto: ${path} is missing; run \`npm run generate\` at the repository root`);
      process.exit(1);
    }
    const text = readFileSync(path, 'utf8');
    needed.set(file, rewrite(text));
    for (const match of text.matchAll(imports)) visit(`${match[1]}.ts`);
  };
  entries.forEach(visit);

  mkdirSync(target, { recursive: true });
  for (const [file, text] of needed) {
    const path = join(target, file);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, path);
    written++;
  }
  for (const file of readdirSync(target)) {
    if (!needed.has(file) && !file.endsWith('.tmp') && !statSync(join(target, file)).isDirectory()) rmSync(join(target, file));
  }
  total += needed.size;
}
// src/gen is not committed (see above): on a fresh clone every file is new, and nothing tracked changed.
if (written > 0) console.log(`sync-proto: ${written} of ${total} files copied from proto/ and libs/partition/ into libs/client-core/src/gen (the published client's own copy; git ignores it)`);
