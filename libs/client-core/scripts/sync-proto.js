#!/usr/bin/env node
// Copies the generated protobuf code this package needs (client_pb.ts and what it imports) from
// proto/src/gen into src/gen, so the published package carries its own copy and depends on nothing
// of the monorepo. src/gen is not committed: build, typecheck and test run this first, so it can
// never be stale. Files are written only when they changed, each atomically (tsc may be reading).
'use strict';
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const packageRoot = join(__dirname, '..');
const source = join(packageRoot, '..', '..', 'proto', 'src', 'gen', 'partq', 'v1');
const target = join(packageRoot, 'src', 'gen', 'partq', 'v1');
const entry = 'client_pb.ts';

if (!existsSync(join(source, entry))) {
  console.error(`sync-proto: ${join(source, entry)} is missing; run \`npm run generate\` at the repository root`);
  process.exit(1);
}

const needed = new Map();
const visit = (file) => {
  if (needed.has(file)) return;
  const text = readFileSync(join(source, file), 'utf8');
  needed.set(file, text);
  for (const match of text.matchAll(/from "\.\/([\w.-]+)\.js"/g)) visit(`${match[1]}.ts`);
};
visit(entry);

mkdirSync(target, { recursive: true });
let written = 0;
for (const [file, text] of needed) {
  const path = join(target, file);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
  written++;
}
for (const file of readdirSync(target)) {
  if (!needed.has(file) && !file.endsWith('.tmp')) rmSync(join(target, file));
}
if (written > 0) console.log(`sync-proto: ${written} of ${needed.size} generated files updated in src/gen`);
