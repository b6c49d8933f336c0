// Keyed random projection of an embedding onto sign bits (SimHash with structured rotations).
import { createCipheriv } from 'node:crypto';

/**
 * The bits of `embedding` under `key`: the embedding (zero-padded to n, the next power of two) goes
 * through blocks of three keyed rotations H·D₃·H·D₂·H·D₁ (H the normalised Walsh–Hadamard
 * transform, Dᵢ diagonal ±1 drawn from the key's AES-256-CTR keystream), and each output's sign is
 * one bit. Every block gives n directions that are mutually orthogonal and close to uniformly
 * random, so two vectors at angle θ differ in a fraction ≈ θ/π of the bits, with less spread than
 * independent Gaussian directions; a block costs O(n log n), so the key never needs caching.
 * Returns `bits` bits packed little-endian into bytes.
 */
export function signBits(embedding: Float32Array, key: Buffer, bits: number): Uint8Array {
  return signBitsWith(embedding, projectionSigns(key, embedding.length, bits), bits);
}

/**
 * The diagonal signs of a key's projection for `dimensions`-long embeddings and `bits` bits: what
 * `signBitsWith` needs, for a caller that projects many embeddings under one key (a stream).
 */
export function projectionSigns(key: Buffer, dimensions: number, bits: number): Uint8Array {
  if (dimensions === 0) throw new RangeError('empty embedding');
  if (!Number.isInteger(bits) || bits < 1) throw new RangeError(`bad bit count ${bits}`);
  const n = nextPowerOfTwo(dimensions);
  return keystream(key, Math.ceil((Math.ceil(bits / n) * 3 * n) / 8));
}

/** signBits with the key's signs already drawn (projectionSigns of the same dimensions and bits). */
export function signBitsWith(embedding: Float32Array, signs: Uint8Array, bits: number): Uint8Array {
  const n = nextPowerOfTwo(embedding.length);
  const blocks = Math.ceil(bits / n);
  if (signs.length * 8 < blocks * 3 * n) throw new RangeError('projection signs drawn for other dimensions or bits');
  const out = new Uint8Array(Math.ceil(bits / 8));
  const v = new Float64Array(n);
  let signBit = 0;
  for (let block = 0; block < blocks; block++) {
    v.fill(0);
    v.set(embedding);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++, signBit++) if ((signs[signBit >> 3]! >> (signBit & 7)) & 1) v[i] = -v[i]!;
      walshHadamard(v);
    }
    for (let i = 0; i < n; i++) {
      const bit = block * n + i;
      if (bit >= bits) break;
      if (v[i]! > 0) out[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  return out;
}

function nextPowerOfTwo(d: number): number {
  let n = 1;
  while (n < d) n <<= 1;
  return n;
}

/** In-place fast Walsh–Hadamard transform (unnormalised: only signs are kept). */
function walshHadamard(v: Float64Array): void {
  for (let h = 1; h < v.length; h <<= 1) {
    for (let i = 0; i < v.length; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const a = v[j]!;
        const b = v[j + h]!;
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
}

/** Deterministic pseudo-random bytes of a 32-byte key (AES-256-CTR over zeros, fixed IV: one stream per key). */
function keystream(key: Buffer, bytes: number): Buffer {
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()]);
}
