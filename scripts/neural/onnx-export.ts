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
