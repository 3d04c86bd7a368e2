// A minimal KZG for ethereumjs' point evaluation precompile (0x0a, EIP-4844), on the
// BLS12-381 pairing of @noble/curves (already a dependency of @ethereumjs/util).
//
// ethereumjs expects a KZG library in `common.customCrypto.kzg`; only `verifyProof` is reachable
// from a state test (blob transactions there carry no blobs). verify_kzg_proof checks
//   e(C - [y]G1, G2) == e(proof, [tau]G2 - [z]G2)
// with [tau]G2 the second G2 point of the Ethereum KZG ceremony's trusted setup
// (g2_monomial[1] of trusted_setup.txt). Malformed inputs throw "C_KZG_BADARGS" as c-kzg does.

import { bls12_381 } from '@noble/curves/bls12-381.js'

const G1 = bls12_381.G1.Point
const G2 = bls12_381.G2.Point
const Fp12 = bls12_381.fields.Fp12

const TAU_G2_HEX =
  'b5bfd7dd8cdeb128843bc287230af38926187075cbfbefa81009a2ce615ac53d2914e5870cb452d2afaaab24f3499f72' +
  '185cbfee53492714734429b7b38608e23926c911cceceac9a36851477ba4c60b087041de621000edc98edada20c1def2'
const BLS_MODULUS = BigInt('52435875175126190479447740508185965837690552500527637822603658699938581184513')

let tauG2
const strip = (h) => String(h).replace(/^0x/, '')

function badArgs(why) {
  return new Error(`C_KZG_BADARGS: ${why}`)
}

function scalar(hex) {
  const h = strip(hex)
  if (h.length !== 64) throw badArgs('field element is not 32 bytes')
  const v = BigInt('0x' + h)
  if (v >= BLS_MODULUS) throw badArgs('field element is not canonical')
  return v
}

function g1(hex) {
  const h = strip(hex)
  if (h.length !== 96) throw badArgs('G1 point is not 48 bytes')
  let p
  try {
    p = G1.fromHex(h)
  } catch (e) {
    throw badArgs(`bad G1 point (${e.message})`)
  }
  if (!p.is0()) {
    try {
      p.assertValidity()
    } catch (e) {
      throw badArgs(`G1 point not in the subgroup (${e.message})`)
    }
    if (!p.isTorsionFree()) throw badArgs('G1 point not in the subgroup')
  }
  return p
}

function pair(p, q) {
  if (p.is0() || q.is0()) return Fp12.ONE
  return bls12_381.pairing(p, q)
}

/** verify_kzg_proof(commitment, z, y, proof), hex strings as ethereumjs passes them. */
function verifyProof(commitment, z, y, proof) {
  if (tauG2 === undefined) tauG2 = G2.fromHex(TAU_G2_HEX)
  const c = g1(commitment)
  const pi = g1(proof)
  const zs = scalar(z)
  const ys = scalar(y)
  const left = ys === 0n ? c : c.subtract(G1.BASE.multiply(ys))
  const right = zs === 0n ? tauG2 : tauG2.subtract(G2.BASE.multiply(zs))
  return Fp12.eql(pair(left, G2.BASE), pair(pi, right))
}

const unsupported = (name) => () => {
  throw new Error(`KZG ${name} is not available in the evmdiff worker (state tests carry no blobs)`)
}

export const kzg = {
  verifyProof,
  blobToKzgCommitment: unsupported('blobToKzgCommitment'),
  computeBlobProof: unsupported('computeBlobProof'),
  verifyBlobProofBatch: unsupported('verifyBlobProofBatch'),
  computeCells: unsupported('computeCells'),
  computeCellsAndProofs: unsupported('computeCellsAndProofs'),
  recoverCellsAndProofs: unsupported('recoverCellsAndProofs'),
  verifyCellKzgProofBatch: unsupported('verifyCellKzgProofBatch'),
}
