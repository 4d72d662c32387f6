#!/usr/bin/env node
// Runs after the package's tsc and before npm pack: deletes what dist holds for sources that no
// longer exist (a module deleted or renamed), so it never ships in the tarball. tsc's build state
// (*.tsbuildinfo) stays; without it the next `tsc -b` would rebuild the package from scratch. dist
// is never emptied, so code running from it meanwhile (other packages, tests) never finds it
// missing. Shared by the publishable packages: it prunes the package it is run in (npm runs
// scripts in the package's root).
'use strict';
const { existsSync, readdirSync, rmSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const packageRoot = process.cwd();
const dist = join(packageRoot, 'dist');
const src = join(packageRoot, 'src');

function prune(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
      continue;
    }
    if (name.endsWith('.tsbuildinfo')) continue;
    const stem = relative(dist, path).replace(/(\.d\.ts|\.js\.map|\.js|\.d\.ts\.map)$/, '');
    const compiled = existsSync(join(src, `${stem}.ts`)) && !stem.endsWith('.test');
    if (!compiled) rmSync(path);
  }
}

if (existsSync(dist)) prune(dist);
