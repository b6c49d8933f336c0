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
 * Principal axes of the standardised windows (columns, by descending variance), at most `limit`.
 * With fewer windows than features the n×n Gram matrix has the same non-zero spectrum and is far
 * cheaper to decompose: axis i = Xᵀu_i / √(n·λ_i).
 */
function principalAxes(x: Matrix, limit: number): Matrix {
  if (x.rows >= x.columns) {
    const { vectors } = symmetricEigen(scatter(x));
    return vectors.subMatrix(0, x.columns - 1, 0, Math.min(limit, x.columns) - 1);
  }
  const gram = symmetricEigen(x.mmul(x.transpose()).div(x.rows));
  const k = Math.min(limit, gram.values.filter((v) => v > 1e-9 * (gram.values[0] ?? 1)).length);
  const u = gram.vectors.subMatrix(0, x.rows - 1, 0, k - 1);
  for (let i = 0; i < k; i++) {
    const inv = 1 / Math.sqrt(x.rows * (gram.values[i] as number));
    for (let r = 0; r < x.rows; r++) u.set(r, i, u.get(r, i) * inv);
  }
  return x.transpose().mmul(u);
}

/**
 * Prepares the option-independent part once and returns a fitter for any PCA size / shrinkage, so a
 * grid does not repeat the work: the standardisation, the principal axes and the windows' PCA scores
 * (a smaller size keeps the first columns), the within-class scatter of those scores (a smaller size
 * is its top-left block) and, per size, its eigendecomposition (shrinkage only shifts eigenvalues).
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
  const classes = [...new Set(labels)];
  const members = classes.map((label) => labels.flatMap((l, i) => (l === label ? [i] : [])));
  let prepared: { axes: Matrix; withinScatter: Matrix } | undefined;
  const withinBySize = new Map<number, { values: number[]; vectors: Matrix }>();

  // Every axis the data has (the largest size an option can ask for), computed on first use.
  const prepare = (): { axes: Matrix; withinScatter: Matrix } => {
    if (prepared) return prepared;
    const axes = principalAxes(x, d);
    const z = x.mmul(axes);
    // Within-class deviations: each window minus its person's mean (over both conditions).
    const within = z.clone();
    for (const rows of members) {
      for (let j = 0; j < z.columns; j++) {
        const mu = rows.reduce((sum, i) => sum + z.get(i, j), 0) / rows.length;
        for (const i of rows) within.set(i, j, z.get(i, j) - mu);
      }
    }
    prepared = { axes, withinScatter: scatter(within) };
    return prepared;
  };

  return (options) => {
    const { axes, withinScatter } = prepare();
    const k = Math.min(options.pcaDims, axes.columns);
    let sw = withinBySize.get(k);
    if (!sw) {
      sw = symmetricEigen(withinScatter.subMatrix(0, k - 1, 0, k - 1));
      withinBySize.set(k, sw);
    }
    const ridge = options.shrinkage * (sw.values.reduce((sum, e) => sum + e, 0) / k);
    const whiten = new Matrix(k, k);
    for (let j = 0; j < k; j++) {
      const inv = 1 / Math.sqrt(Math.max(sw.values[j] as number, 0) + ridge);
      for (let i = 0; i < k; i++) whiten.set(i, j, sw.vectors.get(i, j) * inv);
    }
    const projection = axes.subMatrix(0, d - 1, 0, k - 1).mmul(whiten);
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
