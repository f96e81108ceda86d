// Verifies signatures produced by tandem-crypto with circomlibjs, so that the reference
// implementation accepts ours. Reads JSON [{public_key, message, signature}] (hex packed
// key and signature, decimal message) on stdin; prints one line per item: "ok" or "bad".
// Exits 1 if any signature is rejected.
'use strict';
const fs = require('fs');
const { buildEddsa } = require('circomlibjs');

(async () => {
  const eddsa = await buildEddsa();
  const F = eddsa.babyJub.F;
  const items = JSON.parse(fs.readFileSync(0, 'utf8'));
  let bad = 0;
  for (const it of items) {
    const pub = eddsa.babyJub.unpackPoint(Buffer.from(it.public_key, 'hex'));
    const sig = eddsa.unpackSignature(Buffer.from(it.signature, 'hex'));
    const ok = pub !== null && eddsa.verifyPoseidon(F.e(BigInt(it.message)), sig, pub);
    if (!ok) bad++;
    console.log(ok ? 'ok' : 'bad');
  }
  process.exit(bad === 0 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(2); });
