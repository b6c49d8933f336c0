import onnxProto from 'onnx-proto';
import { MODEL_METADATA_KEY, type ModelDescription } from '../../src/biometrics/neural/model-file.js';
import type { Projection } from './projection.js';

const { onnx } = onnxProto;

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): InstanceType<typeof onnx.TensorProto> {
  const data = Float32Array.from(values);
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function valueInfo(name: string, dims: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * The projection as an ONNX graph: features[N, D] → (x − mean) / scale → × matrix[D, K] →
 * L2 normalisation → embedding[N, K]. The pipeline description (montage, rates, bands,
 * threshold) travels in the model's metadata_props so a model file is self-describing.
 */
export function projectionModel(projection: Projection, description: ModelDescription): Uint8Array {
  const { inputLength: d, outputLength: k } = projection;
  const graph = onnx.GraphProto.create({
    name: 'tessera_neural_projection',
    input: [valueInfo('features', ['batch', d])],
    output: [valueInfo('embedding', ['batch', k])],
    initializer: [
      floatTensor('mean', [d], projection.mean),
      floatTensor('scale', [d], projection.scale),
      floatTensor('projection', [d, k], projection.matrix),
    ],
    node: [
      onnx.NodeProto.create({ opType: 'Sub', input: ['features', 'mean'], output: ['centred'], name: 'centre' }),
      onnx.NodeProto.create({ opType: 'Div', input: ['centred', 'scale'], output: ['standardised'], name: 'standardise' }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['standardised', 'projection'], output: ['projected'], name: 'project' }),
      onnx.NodeProto.create({
        opType: 'LpNormalization',
        input: ['projected'],
        output: ['embedding'],
        name: 'unit_length',
        attribute: [
          { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          { name: 'p', type: onnx.AttributeProto.AttributeType.INT, i: 2 },
        ],
      }),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'tessera models:train-neural',
    graph,
    metadataProps: [{ key: MODEL_METADATA_KEY, value: JSON.stringify(description) }],
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The projection inside a file projectionModel wrote (its inverse): to compare a refit with what shipped. */
export function projectionOf(modelBytes: Uint8Array): Projection {
  const initializers = onnx.ModelProto.decode(modelBytes).graph?.initializer ?? [];
  const tensor = (name: string): { dims: number[]; values: Float64Array } => {
    const t = initializers.find((i) => i.name === name);
    if (!t?.rawData || t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`not a model written by projectionModel: no float tensor "${name}"`);
    // Copied: the decoded bytes need not sit at a 4-byte-aligned offset.
    const raw = new Uint8Array(t.rawData);
    return { dims: (t.dims ?? []).map(Number), values: Float64Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)) };
  };
  const matrix = tensor('projection');
  const [d, k] = matrix.dims;
  if (d === undefined || k === undefined) throw new Error(`projection tensor has shape [${matrix.dims.join(', ')}], not [D, K]`);
  return { mean: tensor('mean').values, scale: tensor('scale').values, matrix: matrix.values, inputLength: d, outputLength: k };
}
