// SSD anchors of face-api's MobileNetV1 detector, regenerated for any input size.
//
// The shipped model was exported at 512×512 with TF object-detection's SSD anchor generator:
// six feature maps (strides 16…512), scales 0.2→0.95 linearly, aspect ratios 1, 2, ½, 3, ⅓ plus
// an extra box of scale √(sₖ·sₖ₊₁), and only three boxes on the first map. Convolutions respond to
// faces of a fixed size in pixels, so at another input size the anchors keep their pixel size:
// relative sizes are multiplied by 512 / size.

const TRAINED_SIZE = 512;
const MIN_SCALE = 0.2;
const MAX_SCALE = 0.95;
const LAYERS = 6;

/** Anchors as [centreY, centreX, height, width] in 0..1 of the input square, in the model's output order. */
export function ssdAnchors(inputSize: number): Float32Array {
  const pixelScale = TRAINED_SIZE / inputSize;
  const grids = featureGrids(inputSize);
  const scales = Array.from({ length: LAYERS }, (_, k) => MIN_SCALE + ((MAX_SCALE - MIN_SCALE) * k) / (LAYERS - 1));
  const out: number[] = [];
  grids.forEach((grid, k) => {
    const scale = scales[k]!;
    const next = scales[k + 1] ?? 1;
    const boxes: Array<[number, number]> = k === 0
      ? [[0.1, 1], [scale, 2], [scale, 0.5]]
      : [[scale, 1], [Math.sqrt(scale * next), 1], [scale, 2], [scale, 0.5], [scale, 3], [scale, 1 / 3]];
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        for (const [s, ratio] of boxes) {
          const r = Math.sqrt(ratio);
          out.push((y + 0.5) / grid, (x + 0.5) / grid, (s / r) * pixelScale, s * r * pixelScale);
        }
      }
    }
  });
  return Float32Array.from(out);
}

/** Side of each predictor's feature map: MobileNet stride 16 and 32, then four stride-2 layers. */
function featureGrids(inputSize: number): number[] {
  const grids = [Math.ceil(inputSize / 16), Math.ceil(inputSize / 32)];
  while (grids.length < LAYERS) grids.push(Math.ceil(grids[grids.length - 1]! / 2));
  return grids;
}
