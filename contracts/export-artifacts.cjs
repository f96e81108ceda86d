#!/usr/bin/env node
// Copies the ABI and bytecode of Tandem's deployable contracts from forge's out/ directory
// into small, stable JSON files (forge artifact shape, so alloy's `sol!` and
// `ContractObject` read them): {"abi": [...], "bytecode": {"object": "0x.."},
// "deployedBytecode": {"object": "0x.."}}. Metadata is not copied; the bytecode carries no
// CBOR metadata (foundry.toml: cbor_metadata = false, bytecode_hash = "none").
// Usage: node export-artifacts.cjs <forge out dir> <artifacts dir>
'use strict';
const fs = require('fs');
const path = require('path');

const CONTRACTS = [
  ['TandemRollup.sol', 'TandemRollup'],
  ['DevToken.sol', 'DevToken'],
  ['ISequencerAuthority.sol', 'ISequencerAuthority'],
  ['IBatchVerifier.sol', 'IBatchVerifier'],
  ['SequencerStaking.sol', 'SequencerStaking'],
  ['StakedRollup.sol', 'StakedRollup'],
];

const [outDir, artDir] = process.argv.slice(2);
if (!outDir || !artDir) {
  console.error('usage: export-artifacts.cjs <forge out dir> <artifacts dir>');
  process.exit(2);
}
fs.mkdirSync(artDir, { recursive: true });
for (const [file, name] of CONTRACTS) {
  const src = path.join(outDir, file, name + '.json');
  const a = JSON.parse(fs.readFileSync(src, 'utf8'));
  const obj = {
    contractName: name,
    abi: a.abi,
    bytecode: { object: a.bytecode.object },
    deployedBytecode: { object: a.deployedBytecode.object },
  };
  if (/^0x[0-9a-f]*a264697066735822/.test(obj.deployedBytecode.object)) {
    console.error(name + ': bytecode still carries CBOR metadata');
    process.exit(1);
  }
  fs.writeFileSync(path.join(artDir, name + '.json'), JSON.stringify(obj, null, 2) + '\n');
  console.log('wrote ' + path.join(artDir, name + '.json'));
}
