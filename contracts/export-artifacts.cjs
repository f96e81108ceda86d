#!/usr/bin/env node
// Copies the ABI and bytecode of Tandem's deployable contracts from forge's out/ directory
// into small, stable JSON files (forge artifact shape, so alloy's `sol!` and
// `ContractObject` read them): {"abi": [...], "bytecode": {"object": "0x.."},
// "deployedBytecode": {"object": "0x.."}}. Metadata is not copied; the bytecode carries no
// CBOR metadata (foundry.toml: cbor_metadata = false, bytecode_hash = "none").
// Entries: [source file name, contract name, artifact file name (default: contract name)].
// Usage: node export-artifacts.cjs <forge out dir> <artifacts dir>
'use strict';
const fs = require('fs');
const path = require('path');

const CONTRACTS = [
  ['TandemRollup.sol', 'TandemRollup'],
  ['DevToken.sol', 'DevToken'],
  ['ISequencerAuthority.sol', 'ISequencerAuthority'],
  ['IBatchVerifier.sol', 'IBatchVerifier'],
  ['IExitVerifier.sol', 'IExitVerifier'],
  ['SequencerStaking.sol', 'SequencerStaking'],
  ['StakedRollup.sol', 'StakedRollup'],
  ['ProverMarket.sol', 'ProverMarket'],
  ['IProverMarket.sol', 'IProverMarket'],
  ['ForcedWithdrawals.sol', 'ForcedWithdrawals'],
  ['DisputeGame.sol', 'DisputeGame'],
  // Generated Groth16 verifiers (contract `Verifier` in each file), exported under the file's name.
  ['BatchVerifier_S2_D4.sol', 'Verifier', 'BatchVerifier_S2_D4'],
  ['BatchVerifier_S4_D24.sol', 'Verifier', 'BatchVerifier_S4_D24'],
  ['ExitVerifier_D4.sol', 'Verifier', 'ExitVerifier_D4'],
  ['ExitVerifier_D24.sol', 'Verifier', 'ExitVerifier_D24'],
];

const [outDir, artDir] = process.argv.slice(2);
if (!outDir || !artDir) {
  console.error('usage: export-artifacts.cjs <forge out dir> <artifacts dir>');
  process.exit(2);
}
fs.mkdirSync(artDir, { recursive: true });
for (const [file, name, artifactName] of CONTRACTS) {
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
  const out = path.join(artDir, (artifactName || name) + '.json');
  fs.writeFileSync(out, JSON.stringify(obj, null, 2) + '\n');
  console.log('wrote ' + out);
}
