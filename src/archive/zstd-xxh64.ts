/**
 * Streaming XXH64 (seed 0), the content checksum of zstd frames, for the JS decoder, which does
 * not verify checksums itself. 64-bit words are held as two uint32 halves because BigInt
 * arithmetic is an order of magnitude slower; results of the helpers go through `outHi`/`outLo`
 * to avoid allocating on the hot path.
 */

// The five XXH64 primes, split into high and low 32-bit halves.
const P1_HI = 0x9e3779b1
const P1_LO = 0x85ebca87
const P2_HI = 0xc2b2ae3d
const P2_LO = 0x27d4eb4f
const P3_HI = 0x165667b1
const P3_LO = 0x9e3779f9
const P4_HI = 0x85ebca77
const P4_LO = 0xc2b2ae63
const P5_HI = 0x27d4eb2f
const P5_LO = 0x165667c5

const STRIPE = 32
/**
 * `Math` read once: inside a vm context (as under jest) each read of a global goes through an
 * interceptor, which made the hot loop 100 times slower; a plain alias of the function itself
 * (`const { imul } = Math`) was twice as slow in a normal context.
 */
const M = Math
// Module constants, not global lookups: inside a vm context (as under jest) every access to a
// global such as `Math` goes through an interceptor and the hot loop ran 100 times slower.

let outHi = 0
let outLo = 0

/** High 32 bits of the 64-bit product of two uint32, from exact 16-bit partial products. */
function productHigh(a: number, b: number): number {
  const a0 = a & 0xffff
  const a1 = a >>> 16
  const b0 = b & 0xffff
  const b1 = b >>> 16
  const p01 = a0 * b1
  const p10 = a1 * b0
  const middle = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)
  return a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16)
}

/** (ah:al) * (bh:bl) mod 2^64. */
function multiply(ah: number, al: number, bh: number, bl: number): void {
  outLo = M.imul(al, bl) >>> 0
  outHi = (productHigh(al, bl) + M.imul(ah, bl) + M.imul(al, bh)) >>> 0
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const low = al + bl
  outLo = low >>> 0
  outHi = (ah + bh + (low > 0xffffffff ? 1 : 0)) >>> 0
}

/** Rotate left by 0 < bits < 32. */
function rotateLeft(h: number, l: number, bits: number): void {
  outHi = ((h << bits) | (l >>> (32 - bits))) >>> 0
  outLo = ((l << bits) | (h >>> (32 - bits))) >>> 0
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round(accHi: number, accLo: number, inHi: number, inLo: number): void {
  multiply(inHi, inLo, P2_HI, P2_LO)
  add(accHi, accLo, outHi, outLo)
  rotateLeft(outHi, outLo, 31)
  multiply(outHi, outLo, P1_HI, P1_LO)
}

/** acc = (acc ^ round(0, lane)) * P1 + P4 */
function mergeRound(accHi: number, accLo: number, laneHi: number, laneLo: number): void {
  round(0, 0, laneHi, laneLo)
  multiply((accHi ^ outHi) >>> 0, (accLo ^ outLo) >>> 0, P1_HI, P1_LO)
  add(outHi, outLo, P4_HI, P4_LO)
}

export class Xxh64 {
  /** Lane accumulators as [hi, lo] pairs, initialised for seed 0: P1 + P2, P2, 0, -P1. */
  private readonly lanes = Uint32Array.of(
    0x60ea27ee,
    0xadc0b5d6,
    P2_HI,
    P2_LO,
    0,
    0,
    0x61c8864e,
    0x7a143579
  )
  private readonly tail = new Uint8Array(STRIPE)
  private tailLength = 0
  private total = 0

  update(bytes: Uint8Array): void {
    this.total += bytes.length
    let at = 0
    if (this.tailLength > 0) {
      const take = Math.min(STRIPE - this.tailLength, bytes.length)
      this.tail.set(bytes.subarray(0, take), this.tailLength)
      this.tailLength += take
      at = take
      if (this.tailLength < STRIPE) return
      this.stripes(this.tail, 0, STRIPE)
      this.tailLength = 0
    }
    const whole = at + M.floor((bytes.length - at) / STRIPE) * STRIPE
    if (whole > at) this.stripes(bytes, at, whole)
    this.tail.set(bytes.subarray(whole), 0)
    this.tailLength = bytes.length - whole
  }

  /** The low 32 bits of the digest: what a zstd frame stores as its checksum. */
  digestLow32(): number {
    let h: number
    let l: number
    if (this.total >= STRIPE) {
      rotateLeft(this.lanes[0], this.lanes[1], 1)
      let sh = outHi
      let sl = outLo
      rotateLeft(this.lanes[2], this.lanes[3], 7)
      add(sh, sl, outHi, outLo)
      sh = outHi
      sl = outLo
      rotateLeft(this.lanes[4], this.lanes[5], 12)
      add(sh, sl, outHi, outLo)
      sh = outHi
      sl = outLo
      rotateLeft(this.lanes[6], this.lanes[7], 18)
      add(sh, sl, outHi, outLo)
      mergeRound(outHi, outLo, this.lanes[0], this.lanes[1])
      mergeRound(outHi, outLo, this.lanes[2], this.lanes[3])
      mergeRound(outHi, outLo, this.lanes[4], this.lanes[5])
      mergeRound(outHi, outLo, this.lanes[6], this.lanes[7])
      h = outHi
      l = outLo
    } else {
      h = P5_HI
      l = P5_LO
    }
    add(h, l, M.floor(this.total / 2 ** 32) >>> 0, this.total >>> 0)
    h = outHi
    l = outLo
    const t = this.tail
    let at = 0
    for (; at + 8 <= this.tailLength; at += 8) {
      round(0, 0, readU32(t, at + 4), readU32(t, at))
      rotateLeft((h ^ outHi) >>> 0, (l ^ outLo) >>> 0, 27)
      multiply(outHi, outLo, P1_HI, P1_LO)
      add(outHi, outLo, P4_HI, P4_LO)
      h = outHi
      l = outLo
    }
    if (at + 4 <= this.tailLength) {
      multiply(0, readU32(t, at), P1_HI, P1_LO)
      rotateLeft((h ^ outHi) >>> 0, (l ^ outLo) >>> 0, 23)
      multiply(outHi, outLo, P2_HI, P2_LO)
      add(outHi, outLo, P3_HI, P3_LO)
      h = outHi
      l = outLo
      at += 4
    }
    for (; at < this.tailLength; at++) {
      multiply(0, t[at], P5_HI, P5_LO)
      rotateLeft((h ^ outHi) >>> 0, (l ^ outLo) >>> 0, 11)
      multiply(outHi, outLo, P1_HI, P1_LO)
      h = outHi
      l = outLo
    }
    // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
    multiply(h, (l ^ (h >>> 1)) >>> 0, P2_HI, P2_LO)
    h = outHi
    l = outLo
    multiply((h ^ (h >>> 29)) >>> 0, (l ^ ((l >>> 29) | (h << 3))) >>> 0, P3_HI, P3_LO)
    return (outLo ^ outHi) >>> 0
  }

  /**
   * The hot loop, with round() written out: keeping lanes in a typed array and reading through
   * a DataView measured twice as fast as the helper functions above.
   */
  private stripes(bytes: Uint8Array, start: number, end: number): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const lanes = this.lanes
    for (let at = start; at < end; at += STRIPE) {
      for (let lane = 0; lane < 8; lane += 2) {
        const inLo = view.getUint32(at + lane * 4, true)
        const inHi = view.getUint32(at + lane * 4 + 4, true)
        const sum = lanes[lane + 1] + (M.imul(inLo, P2_LO) >>> 0)
        const sumLo = sum >>> 0
        const sumHi =
          (lanes[lane] +
            productHigh(inLo, P2_LO) +
            M.imul(inHi, P2_LO) +
            M.imul(inLo, P2_HI) +
            (sum > 0xffffffff ? 1 : 0)) >>>
          0
        const rotHi = ((sumHi << 31) | (sumLo >>> 1)) >>> 0
        const rotLo = ((sumLo << 31) | (sumHi >>> 1)) >>> 0
        lanes[lane + 1] = M.imul(rotLo, P1_LO)
        lanes[lane] = productHigh(rotLo, P1_LO) + M.imul(rotHi, P1_LO) + M.imul(rotLo, P1_HI)
      }
    }
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}
