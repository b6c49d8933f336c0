// Similarity alignment of a face to the canonical pose the recognition net was trained on.
//
// dlib's metric net (the face_recognition weights) was trained on 150×150 chips cut by dlib's
// get_face_chip_details(shape, 150, 0.25): landmarks 17–67 fitted by least squares onto dlib's mean
// face shape, with 25 % padding. The mean shape below is dlib's (Boost Software License).
import { samplePatch, type Point, type RgbImage, type Similarity } from './image.js';

const MEAN_FACE_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004,
  0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737,
  0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751,
  0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
  0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127,
  0.42689,
];
const MEAN_FACE_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454,
  0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423,
  0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077,
  0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192,
  0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803,
  0.824182,
];
const FIRST_POINT = 17;

export const CHIP_SIZE = 150;
const PADDING = 0.25;

/** Template positions of landmarks 17–67 in chip pixels (continuous coordinates). */
function chipTemplate(size: number): Point[] {
  return MEAN_FACE_X.map((x, i) => ({
    x: ((x + PADDING) / (1 + 2 * PADDING)) * size,
    y: ((MEAN_FACE_Y[i]! + PADDING) / (1 + 2 * PADDING)) * size,
  }));
}

export const CHIP_TEMPLATE: readonly Point[] = chipTemplate(CHIP_SIZE);
export const FIRST_TEMPLATE_LANDMARK = FIRST_POINT;

/**
 * Least-squares similarity (Umeyama without reflection) taking chip coordinates to image
 * coordinates, shifted to pixel-index space for sampling.
 */
export function chipTransform(landmarks: readonly Point[]): Similarity {
  const image = landmarks.slice(FIRST_POINT);
  if (image.length !== CHIP_TEMPLATE.length) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  const n = CHIP_TEMPLATE.length;
  let mtx = 0, mty = 0, mix = 0, miy = 0;
  for (let i = 0; i < n; i++) {
    mtx += CHIP_TEMPLATE[i]!.x; mty += CHIP_TEMPLATE[i]!.y; mix += image[i]!.x; miy += image[i]!.y;
  }
  mtx /= n; mty /= n; mix /= n; miy /= n;
  let sxx = 0, sxy = 0, var0 = 0;
  for (let i = 0; i < n; i++) {
    const tx = CHIP_TEMPLATE[i]!.x - mtx, ty = CHIP_TEMPLATE[i]!.y - mty;
    const ix = image[i]!.x - mix, iy = image[i]!.y - miy;
    sxx += tx * ix + ty * iy;
    sxy += tx * iy - ty * ix;
    var0 += tx * tx + ty * ty;
  }
  const a = sxx / var0;
  const b = sxy / var0;
  // Chip pixel u has its centre at u + 0.5; image pixel index i has its centre at i + 0.5.
  const cu = mtx - 0.5, cv = mty - 0.5;
  return { a, b, tx: mix - 0.5 - (a * cu - b * cv), ty: miy - 0.5 - (b * cu + a * cv) };
}

/** The aligned CHIP_SIZE×CHIP_SIZE chip as NHWC float pixels. */
export function alignedChip(image: RgbImage, landmarks: readonly Point[]): Float32Array {
  return samplePatch(image, chipTransform(landmarks), CHIP_SIZE);
}
