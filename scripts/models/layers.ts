// TensorFlow-to-ONNX layer helpers: weight layouts, TF 'same'/'valid' padding, common layer shapes.
import type { GraphBuilder } from './onnx-graph.js';

/** A square NCHW feature map flowing through the graph; spatial size is tracked to compute padding. */
export interface Feature {
  readonly name: string;
  readonly size: number;
  readonly channels: number;
}

export type Padding = 'same' | 'valid';

/** TF conv filters are [kh, kw, in, out]; ONNX wants [out, in, kh, kw]. */
export function hwioToOihw(data: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o]!;
        }
      }
    }
  }
  return out;
}

/** TF depthwise filters are [kh, kw, channels, 1]; ONNX grouped conv wants [channels, 1, kh, kw]. */
export function depthwiseToOihw(data: Float32Array, kh: number, kw: number, channels: number): Float32Array {
  return hwioToOihw(data, kh, kw, 1, channels);
}

/** Spatial output size under TF's padding modes. */
export function outputSize(size: number, kernel: number, stride: number, padding: Padding): number {
  return padding === 'valid' ? Math.floor((size - kernel) / stride) + 1 : Math.ceil(size / stride);
}

export interface ConvSpec {
  /** ONNX-layout weights [out, in/group, k, k]. */
  readonly weight: Float32Array;
  readonly bias?: Float32Array;
  readonly kernel: number;
  readonly outChannels: number;
  readonly stride: number;
  readonly padding: Padding;
  readonly group?: number;
}

export function conv(g: GraphBuilder, x: Feature, spec: ConvSpec, label: string): Feature {
  const group = spec.group ?? 1;
  const out = outputSize(x.size, spec.kernel, spec.stride, spec.padding);
  const w = g.floats(`${label}_w`, [spec.outChannels, x.channels / group, spec.kernel, spec.kernel], spec.weight);
  const inputs = [x.name, w];
  if (spec.bias) inputs.push(g.floats(`${label}_b`, [spec.outChannels], spec.bias));
  // SAME_UPPER is TF's 'same' (extra padding after) and is resolved per run, so graphs with a
  // dynamic input size pad each layer correctly; 'valid' means no padding.
  const padding: Record<string, string | number[]> = spec.padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] };
  const name = g.op('Conv', inputs, {
    kernel_shape: [spec.kernel, spec.kernel],
    strides: [spec.stride, spec.stride],
    group,
    ...padding,
  });
  return { name, size: out, channels: spec.outChannels };
}

export function relu(g: GraphBuilder, x: Feature): Feature {
  return { ...x, name: g.op('Relu', [x.name]) };
}

/** tf.clipByValue(x, 0, 6), i.e. ReLU6. */
export function relu6(g: GraphBuilder, x: Feature): Feature {
  return { ...x, name: g.op('Clip', [x.name, g.scalar('zero', 0), g.scalar('six', 6)]) };
}

export function add(g: GraphBuilder, a: Feature, b: Feature): Feature {
  if (a.size !== b.size || a.channels !== b.channels) throw new Error(`add: ${a.size}/${a.channels} vs ${b.size}/${b.channels}`);
  return { ...a, name: g.op('Add', [a.name, b.name]) };
}

export function pool(g: GraphBuilder, type: 'MaxPool' | 'AveragePool', x: Feature, kernel: number, stride: number): Feature {
  const out = outputSize(x.size, kernel, stride, 'valid');
  const name = g.op(type, [x.name], { kernel_shape: [kernel, kernel], strides: [stride, stride] });
  return { name, size: out, channels: x.channels };
}

/**
 * Network input: NHWC pixels in 0..255 (what an image decoder gives), normalised per channel as
 * (x - offset) / divisor, then transposed to NCHW for ONNX convolutions.
 */
export function pixelInput(g: GraphBuilder, name: string, size: number, offset: readonly number[], divisor: number, dynamicSize?: string): Feature {
  const x = g.input(name, ['batch', dynamicSize ?? size, dynamicSize ?? size, 3]);
  const centred = g.op('Sub', [x, g.floats('mean_rgb', [3], Float32Array.from(offset))]);
  const scaled = g.op('Div', [centred, g.scalar('divisor', divisor)]);
  return { name: g.op('Transpose', [scaled], { perm: [0, 3, 1, 2] }), size, channels: 3 };
}
