#!/usr/bin/env node
// CI guard: the committed generated code must match what buf generates from the .proto files now.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { tmpdir } = require('node:os');

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

const here = __dirname;
const out = mkdtempSync(join(tmpdir(), 'partq-proto-'));
try {
  const template = readFileSync(join(here, 'buf.gen.yaml'), 'utf8')
    .replace('out: src/gen', `out: ${out}`)
    .replace('local: ../node_modules/.bin/protoc-gen-es', `local: ${join(here, '..', 'node_modules', '.bin', 'protoc-gen-es')}`);
  const genConfig = join(out, 'buf.gen.yaml');
  writeFileSync(genConfig, template);
  execFileSync(join(here, '..', 'node_modules', '.bin', 'buf'), ['generate', '--template', genConfig], { cwd: here, stdio: 'inherit' });
  const committedDir = join(here, 'src', 'gen');
  const fresh = listFiles(out).filter((f) => f.endsWith('.ts')).map((f) => relative(out, f)).sort();
  const committed = listFiles(committedDir).map((f) => relative(committedDir, f)).sort();
  const stale = fresh.filter((f) => !committed.includes(f) || readFileSync(join(out, f), 'utf8') !== readFileSync(join(committedDir, f), 'utf8'));
  const extra = committed.filter((f) => !fresh.includes(f));
  if (stale.length || extra.length) {
    console.error(`proto/src/gen is stale (${[...stale, ...extra].join(', ')}): run \`npm run generate\` and commit.`);
    process.exit(1);
  }
  console.log(`proto/src/gen is fresh (${fresh.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
