/** Scoring helpers for embeddings (no onnxruntime here, so importing them stays cheap). */

/** Unit-length mean of unit vectors. */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const k = vectors[0]?.length ?? 0;
  const sum = new Float32Array(k);
  for (const v of vectors) for (let i = 0; i < k; i++) sum[i] = (sum[i] as number) + (v[i] as number);
  return normalise(sum);
}

export function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm > 0 ? v.map((x) => x / norm) : v;
}

/** Cosine similarity in [-1, 1]; templates and probes are unit length, but do not rely on it. */
export function score(template: Float32Array, probe: Float32Array): number {
  if (template.length !== probe.length) throw new RangeError(`template has ${template.length} dimensions, probe ${probe.length}`);
  let dot = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < template.length; i++) {
    const t = template[i] as number;
    const p = probe[i] as number;
    dot += t * p;
    a += t * t;
    b += p * p;
  }
  return a > 0 && b > 0 ? dot / Math.sqrt(a * b) : 0;
}
