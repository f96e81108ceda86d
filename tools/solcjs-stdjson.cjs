#!/usr/bin/env node
// Native-solc emulation on top of the npm `solc` (solcjs/wasm) package pinned in the repo's
// package.json, so forge can build offline without downloading a native compiler.
// Supports: --version, --standard-json (JSON on stdin -> JSON on stdout), --base-path,
// --include-path, --allow-paths (accepted, not enforced: solcjs only reads through the
// import callback below, which resolves against the base and include paths).
// The module is resolved from <repo>/node_modules (this file lives in <repo>/tools/);
// SOLCJS_MODULE overrides it.
'use strict';
const fs = require('fs');
const path = require('path');

const solc = require(process.env.SOLCJS_MODULE || path.join(__dirname, '..', 'node_modules', 'solc'));

const argv = process.argv.slice(2);
let basePath = null;
const includePaths = [];
let standardJson = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--version' || a === '-v') {
    // forge parses the last line: "Version: 0.8.37+commit.f401782d.Linux.g++".
    const v = solc.version().replace(/\.Emscripten\.clang$/, '.Linux.g++');
    process.stdout.write('solc, the solidity compiler commandline interface\nVersion: ' + v + '\n');
    process.exit(0);
  } else if (a === '--standard-json') standardJson = true;
  else if (a === '--base-path') basePath = argv[++i];
  else if (a === '--include-path') includePaths.push(argv[++i]);
  else if (a === '--allow-paths') i++;
  else if (a.startsWith('--base-path=')) basePath = a.slice('--base-path='.length);
  else if (a.startsWith('--include-path=')) includePaths.push(a.slice('--include-path='.length));
  else if (a.startsWith('--allow-paths=')) { /* accepted, see above */ }
  else if (a === '-') { /* stdin marker */ }
  else {
    process.stderr.write('tools/solc: unsupported argument ' + a + '\n');
    process.exit(1);
  }
}
if (!standardJson) {
  process.stderr.write('tools/solc: only --standard-json and --version are supported\n');
  process.exit(1);
}

function findImports(p) {
  const candidates = [];
  if (path.isAbsolute(p)) candidates.push(p);
  for (const pre of [basePath || process.cwd(), ...includePaths]) candidates.push(path.join(pre, p));
  for (const c of candidates) {
    try {
      return { contents: fs.readFileSync(c, 'utf8') };
    } catch (_) { /* try next */ }
  }
  return { error: 'File not found: ' + p };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
