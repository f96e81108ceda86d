// Produces the circomlibjs reference vectors that tandem-crypto's tests must reproduce:
// Poseidon hashes of several arities, Baby Jubjub keys derived from private keys, and
// EdDSA-Poseidon signatures. Run: `node generate.js > ../../crates/crypto/tests/vectors/circomlibjs.json`.
'use strict';
const crypto = require('crypto');
const { buildEddsa, buildPoseidon } = require('circomlibjs');

const hex = (bytes) => Buffer.from(bytes).toString('hex');
// Deterministic inputs so that re-running the script reproduces the committed file.
const seeded = (label) => crypto.createHash('sha256').update(label).digest();
const field = (label, F) => F.toObject(F.e(BigInt('0x' + seeded(label).toString('hex')))).toString();

(async () => {
  const poseidon = await buildPoseidon();
  const eddsa = await buildEddsa();
  const F = poseidon.F;

  const poseidonVectors = [];
  for (let arity = 1; arity <= 12; arity++) {
    for (const kind of ['small', 'random']) {
      const inputs = [];
      for (let i = 0; i < arity; i++) {
        inputs.push(kind === 'small' ? String(i + 1) : field(`poseidon-${arity}-${i}`, F));
      }
      poseidonVectors.push({ inputs, output: F.toObject(poseidon(inputs.map(BigInt))).toString() });
    }
  }
  poseidonVectors.push({ inputs: ['0', '0'], output: F.toObject(poseidon([0n, 0n])).toString() });

  const signatures = [];
  for (let k = 0; k < 4; k++) {
    const prv = seeded(`tandem-key-${k}`);
    const pub = eddsa.prv2pub(prv);
    const packedPub = eddsa.babyJub.packPoint(pub);
    for (let m = 0; m < 3; m++) {
      const msg = m === 0 ? '0' : field(`tandem-msg-${k}-${m}`, F);
      const sig = eddsa.signPoseidon(prv, F.e(BigInt(msg)));
      if (!eddsa.verifyPoseidon(F.e(BigInt(msg)), sig, pub)) throw new Error('reference failed to verify itself');
      signatures.push({
        private_key: hex(prv),
        public_key: { x: F.toObject(pub[0]).toString(), y: F.toObject(pub[1]).toString(), packed: hex(packedPub) },
        message: msg,
        r8: { x: F.toObject(sig.R8[0]).toString(), y: F.toObject(sig.R8[1]).toString() },
        s: sig.S.toString(),
        packed_signature: hex(eddsa.packSignature(sig)),
      });
    }
  }
  process.stdout.write(JSON.stringify({ generator: 'circomlibjs 0.1.7', poseidon: poseidonVectors, eddsa: signatures }, null, 1) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
