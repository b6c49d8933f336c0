import { EVD, Matrix } from 'ml-matrix';

/**
 * The learned part of the model: standardise → PCA → within-class whitening, folded into one
 * D×K matrix; embeddings are compared by cosine. Within-class scatter is computed over every window of
 * a person from BOTH the resting and the task run, so directions along which one person's
 * features move between conditions are shrunk: that is what makes the embedding hold across
 * conditions. Closed-form and deterministic: no random initialisation, no seed to set.
 */
export interface Projection {
  mean: Float64Array;
  scale: Float64Array;
  /** Row-major D×K. */
  matrix: Float64Array;
  inputLength: number;
  outputLength: number;
}

export interface ProjectionOptions {
  pcaDims: number;
  /** Ridge added to the within-class scatter's eigenvalues, as a fraction of their mean. */
  shrinkage: number;
}

/** Eigenvectors of a symmetric matrix as columns, sorted by descending eigenvalue. */
function symmetricEigen(m: Matrix): { values: number[]; vectors: Matrix } {
  const evd = new EVD(m, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number));
  const vectors = evd.eigenvectorMatrix;
  return { values: order.map((i) => values[i] as number), vectors: new Matrix(vectors.rows, order.length).setSubMatrix(vectors.subMatrixColumn(order), 0, 0) };
}

function scatter(rows: Matrix): Matrix {
  return rows.transpose().mmul(rows).div(Math.max(1, rows.rows));
}

/**
 * Prepares the option-independent part (standardisation, full PCA) once and returns a fitter
 * for any PCA size / shrinkage, so a hyper-parameter grid does not repeat the D×D eigensolve.
 */
export function projectionFitter(features: readonly Float32Array[], labels: readonly string[]): (options: ProjectionOptions) => Projection {
  const n = features.length;
  const d = features[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (const f of features) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (f[j] as number) / n;
  for (const f of features) for (let j = 0; j < d; j++) scale[j] = (scale[j] as number) + ((f[j] as number) - (mean[j] as number)) ** 2 / n;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j] as number) || 1;

  const x = new Matrix(n, d);
  features.forEach((f, i) => {
    for (let j = 0; j < d; j++) x.set(i, j, ((f[j] as number) - (mean[j] as number)) / (scale[j] as number));
  });
  const pca = symmetricEigen(scatter(x));
  const classes = [...new Set(labels)];
  const members = classes.map((label) => labels.flatMap((l, i) => (l === label ? [i] : [])));

  return (options) => {
    const k = Math.min(options.pcaDims, d);
    const v = pca.vectors.subMatrix(0, d - 1, 0, k - 1);
    const z = x.mmul(v);

    // Within-class deviations: each window minus its person's mean (over both conditions).
    const within = z.clone();
    for (const rows of members) {
      for (let j = 0; j < k; j++) {
        const mu = rows.reduce((s, i) => s + z.get(i, j), 0) / rows.length;
        for (const i of rows) within.set(i, j, z.get(i, j) - mu);
      }
    }
    const sw = symmetricEigen(scatter(within));
    const ridge = options.shrinkage * (sw.values.reduce((s, e) => s + e, 0) / k);
    const whiten = new Matrix(k, k);
    for (let j = 0; j < k; j++) {
      const inv = 1 / Math.sqrt(Math.max(sw.values[j] as number, 0) + ridge);
      for (let i = 0; i < k; i++) whiten.set(i, j, sw.vectors.get(i, j) * inv);
    }
    const projection = v.mmul(whiten);
    return {
      mean,
      scale,
      matrix: Float64Array.from(projection.to1DArray()),
      inputLength: d,
      outputLength: projection.columns,
    };
  };
}

export function fitProjection(features: readonly Float32Array[], labels: readonly string[], options: ProjectionOptions): Projection {
  return projectionFitter(features, labels)(options);
}

/** Same computation as the exported ONNX graph, for model selection without a session. */
export function applyProjection(p: Projection, feature: Float32Array): Float32Array {
  const out = new Float32Array(p.outputLength);
  for (let j = 0; j < p.inputLength; j++) {
    const x = ((feature[j] as number) - (p.mean[j] as number)) / (p.scale[j] as number);
    const row = j * p.outputLength;
    for (let c = 0; c < p.outputLength; c++) out[c] = (out[c] as number) + x * (p.matrix[row + c] as number);
  }
  let norm = 0;
  for (const v of out) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return out.map((v) => v / norm);
}
