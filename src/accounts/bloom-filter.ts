import { createHash } from 'node:crypto';

// A Bloom filter over strings: "maybe in the set" or "certainly not". Sized from the expected
// count and the wanted false-positive rate; its k bit positions come from one SHA-256 of the
// string split into two 32-bit halves (Kirsch–Mitzenmacher double hashing).
//
// File layout: "TSBLOOM1", then k, the size in bits and the number of strings added (u32 LE
// each), then the bits.

const MAGIC = Buffer.from('TSBLOOM1', 'latin1');
const HEADER_BYTES = MAGIC.length + 12;

export class BloomFilter {
  private constructor(
    private readonly bits: Uint8Array,
    private readonly size: number,
    readonly hashes: number,
    private added: number,
  ) {}

  /** An empty filter for about `expected` strings at `falsePositiveRate` once they are all added. */
  static sized(expected: number, falsePositiveRate: number): BloomFilter {
    const size = Math.ceil((-expected * Math.log(falsePositiveRate)) / Math.LN2 ** 2);
    if (size >= 2 ** 32) throw new RangeError('a Bloom filter this large needs more than 32-bit positions');
    const hashes = Math.max(1, Math.round((size / expected) * Math.LN2));
    return new BloomFilter(new Uint8Array(Math.ceil(size / 8)), size, hashes, 0);
  }

  static fromBytes(bytes: Uint8Array): BloomFilter {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < HEADER_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a Bloom filter file');
    const hashes = buf.readUInt32LE(8);
    const size = buf.readUInt32LE(12);
    const added = buf.readUInt32LE(16);
    if (buf.length !== HEADER_BYTES + Math.ceil(size / 8)) throw new Error('Bloom filter file is truncated');
    return new BloomFilter(buf.subarray(HEADER_BYTES), size, hashes, added);
  }

  toBytes(): Buffer {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header);
    header.writeUInt32LE(this.hashes, 8);
    header.writeUInt32LE(this.size, 12);
    header.writeUInt32LE(this.added, 16);
    return Buffer.concat([header, this.bits]);
  }

  get count(): number {
    return this.added;
  }

  get byteLength(): number {
    return this.bits.length;
  }

  add(value: string): void {
    this.forEachPosition(value, (i) => {
      this.bits[i >>> 3]! |= 1 << (i & 7);
      return true;
    });
    this.added++;
  }

  has(value: string): boolean {
    return this.forEachPosition(value, (i) => (this.bits[i >>> 3]! & (1 << (i & 7))) !== 0);
  }

  /** Visits the string's positions while `visit` returns true; says whether it did for all. */
  private forEachPosition(value: string, visit: (position: number) => boolean): boolean {
    const digest = createHash('sha256').update(value, 'utf8').digest();
    const h1 = digest.readUInt32LE(0);
    // Never zero, so the k positions do not all fall on one bit (`>>> 0`: `| 1` gives a signed int).
    const h2 = (digest.readUInt32LE(4) | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      if (!visit((h1 + i * h2) % this.size)) return false;
    }
    return true;
  }
}
