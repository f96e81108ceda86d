#!/usr/bin/env node
// Writes the circomlib Poseidon hash contracts (BN254 Fr, circomlibjs's EVM code generator)
// for 4 and 7 inputs as forge-shaped artifacts: PoseidonT5.json (4 inputs: the forced
// withdrawal request hash) and PoseidonT8.json (7 inputs: the forced withdrawal signing
// message). `bytecode.object` is the deployment code; `deployedBytecode.object` is its runtime
// (the code after circomlibjs's loader, which copies it and returns it).
// 4 inputs: circomlibjs's `poseidonContract.createCode(4)` as is. 7 inputs: circomlibjs's
// generator fails (its stack-only MDS mix needs DUP17 for t = 8), so `createCode7` below is
// the same computation (same constants C, M from circomlibjs's poseidon_constants.json, same
// rounds: 8 full, 64 partial, same selector dispatch and loader) with its constants in a
// data table and its rounds as loops, so that it fits EIP-170 (details at createCodeMem). Both are checked against
// circomlibjs's `buildPoseidon` in test/Poseidon.t.sol.
// ABI: `poseidon(uint256[n]) view returns (uint256)` (and a bytes32[n] overload).
// Usage: node poseidon/gen.cjs <artifacts dir>   (called by contracts/build.sh)
'use strict';
const fs = require('fs');
const path = require('path');
const { poseidonContract, evmasm: Contract } = require('circomlibjs');
const { keccak256, toUtf8Bytes } = require('ethers').utils ?? require('ethers');

const CONSTANTS = require(path.join(path.dirname(require.resolve('circomlibjs')), '..', 'src', 'poseidon_constants.json'));
const N_ROUNDS_F = 8;
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63];

function toHex256(a) {
  return '0x' + BigInt(a).toString(16).padStart(64, '0');
}

// circomlibjs's poseidon_gencontract.js createCode, reworked to fit EIP-170 for t = 8: the
// round constants C and the matrix M are a data table at the end of the code, copied to
// memory once; the three round phases (4 full, 64 partial, 4 full) are loops reading C
// through a pointer; the mix spills the old state to memory and reads it back. Memory:
// 0x00 mix return address, [0x20, 0x20 + 32 t^2) M (as circomlibjs), then the old state
// (t words), the C pointer, the loop counter, then C (t * 72 words).
function createCodeMem(nInputs) {
  const t = nInputs + 1;
  const K = CONSTANTS.C[t - 2];
  const M = CONSTANTS.M[t - 2];
  const nRoundsF = N_ROUNDS_F;
  const nRoundsP = N_ROUNDS_P[t - 2];
  const MEM_M = 0x20;
  const OLD = (1 + t * t) * 32;
  const PTR = OLD + t * 32;
  const CNT = PTR + 32;
  const KT = CNT + 32;
  const nK = t * (nRoundsF + nRoundsP);
  if (K.length !== nK) throw new Error('unexpected constant count');
  const C = new Contract();

  function ark() {
    for (let i = 0; i < t; i++) {
      C.dup(t); // q, st, q
      C.push(PTR);
      C.mload();
      if (i > 0) {
        C.push(i * 32);
        C.add();
      }
      C.mload(); // K, q, st, q
      C.dup(2 + i);
      C.addmod();
      C.swap(1 + i);
      C.pop();
    }
    C.push(t * 32);
    C.push(PTR);
    C.mload();
    C.add();
    C.push(PTR);
    C.mstore();
  }
  function sigma(p) {
    C.dup(t);
    C.dup(1 + p);
    C.dup(1);
    C.dup(0);
    C.dup(2);
    C.dup(0);
    C.mulmod();
    C.dup(0);
    C.mulmod();
    C.mulmod();
    C.swap(1 + p);
    C.pop();
  }
  function mix() {
    // Stack: st0 (top), ..., st[t-1], q. Spill the old state, then push the new one from
    // st[t-1] down to st0 (so st0 ends on top): st_i = sum_j M[i][j] * old_j mod q.
    C.label('mix');
    for (let k = 0; k < t; k++) {
      C.push(OLD + k * 32);
      C.mstore();
    }
    for (let i = t - 1; i >= 0; i--) {
      const above = t - 1 - i; // new values above q
      for (let j = 0; j < t; j++) {
        C.dup(j === 0 ? above : above + 1); // q (, acc)
        C.push(MEM_M + (i * t + j) * 32);
        C.mload(); // M, q
        C.push(OLD + j * 32);
        C.mload(); // old_j, M, q
        C.mulmod(); // aux (, acc)
        if (j > 0) {
          C.dup(above + 2); // q, aux, acc
          C.swap(2); // acc, aux, q
          C.addmod(); // acc
        }
      }
    }
    C.push(0);
    C.mload();
    C.jmp();
  }
  function phase(name, rounds, full) {
    C.push(rounds);
    C.push(CNT);
    C.mstore();
    C.label(name);
    ark();
    if (full) {
      for (let j = 0; j < t; j++) sigma(j);
    } else {
      sigma(0);
    }
    C._pushLabel(name + 'Mixed');
    C.push(0);
    C.mstore();
    C.jmp('mix');
    C.label(name + 'Mixed');
    C.push(1);
    C.push(CNT);
    C.mload();
    C.sub(); // cnt - 1
    C.dup(0);
    C.push(CNT);
    C.mstore();
    C.jmpi(name);
  }

  C.push('0x0100000000000000000000000000000000000000000000000000000000');
  C.push(0);
  C.calldataload();
  C.div();
  C.dup(0);
  C.push(keccak256(toUtf8Bytes(`poseidon(uint256[${nInputs}])`)).slice(0, 10));
  C.eq();
  C.swap(1);
  C.push(keccak256(toUtf8Bytes(`poseidon(bytes32[${nInputs}])`)).slice(0, 10));
  C.eq();
  C.or();
  C.jmpi('start');
  C.invalid();
  C.label('start');
  // codecopy(MEM_M, table, 32 t^2) and codecopy(KT, table + 32 t^2, 32 nK)
  C.push(32 * t * t);
  C._pushLabel('table');
  C.push(1);
  C.add();
  C.push(MEM_M);
  C.codecopy();
  C.push(32 * nK);
  C.push(32 * t * t + 1);
  C._pushLabel('table');
  C.add();
  C.push(KT);
  C.codecopy();
  C.push(KT);
  C.push(PTR);
  C.mstore();
  C.push('0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001'); // q
  for (let i = 0; i < nInputs; i++) {
    C.push(0x04 + 0x20 * (nInputs - i - 1));
    C.calldataload();
  }
  C.push(0);
  phase('fullA', nRoundsF / 2, true);
  phase('partial', nRoundsP, false);
  phase('fullB', nRoundsF / 2, true);
  C.push('0x00');
  C.mstore();
  C.push('0x20');
  C.push('0x00');
  C.return();
  mix();
  C.label('table'); // a JUMPDEST byte, then the data
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) C.code.push(...Buffer.from(toHex256(M[i][j]).slice(2), 'hex'));
  }
  for (const k of K) C.code.push(...Buffer.from(toHex256(k).slice(2), 'hex'));
  return C.createTxData();
}

const artDir = process.argv[2];
if (!artDir) {
  console.error('usage: gen.cjs <artifacts dir>');
  process.exit(2);
}
fs.mkdirSync(artDir, { recursive: true });
for (const n of [4, 7]) {
  const name = 'PoseidonT' + (n + 1);
  const code = (n === 7 ? createCodeMem(n) : poseidonContract.createCode(n)).toLowerCase();
  // Loader: CODESIZE, PUSHk <loader length>, PUSH1 0, CODECOPY, PUSHk <runtime length>, PUSH1 0, RETURN.
  const bytes = Buffer.from(code.slice(2), 'hex');
  if (bytes[0] !== 0x38 || bytes[1] < 0x60 || bytes[1] > 0x7f) throw new Error(name + ': unexpected loader');
  const k = bytes[1] - 0x5f;
  const loaderLen = parseInt(bytes.subarray(2, 2 + k).toString('hex'), 16);
  const runtime = bytes.subarray(loaderLen);
  if (bytes[loaderLen - 1] !== 0xf3) throw new Error(name + ': loader does not end in RETURN');
  const obj = {
    contractName: name,
    abi: poseidonContract.generateABI(n),
    bytecode: { object: code },
    deployedBytecode: { object: '0x' + runtime.toString('hex') },
  };
  const out = path.join(artDir, name + '.json');
  fs.writeFileSync(out, JSON.stringify(obj, null, 2) + '\n');
  console.log('wrote ' + out);
}
