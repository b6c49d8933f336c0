// The face pipeline: bytes → decode → detect → choose → landmarks → align → quality → embedding and PAD score.
import { join } from 'node:path';
import { alignedChip } from './align.js';
import { decodeImage, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode.js';
import { FaceDetector, type Detection } from './detector.js';
import { chooseFace, DOMINANCE_RATIO } from './choose-face.js';
import { Embedder } from './embedder.js';
import { FaceError } from './errors.js';
import { padImage, type Box, type Point, type RgbImage } from './image.js';
import { Landmarker } from './landmarker.js';
import { PadModel } from './pad.js';
import { assessQuality, type QualityReport, type QualityThresholds } from './quality.js';

export const MODEL_FILES = {
  detector: 'face-detector.onnx',
  landmarks: 'face-landmark-68.onnx',
  recognition: 'face-recognition.onnx',
  pad: 'face-pad.onnx',
} as const;

export interface FacePipelineOptions {
  /** Detector input side (multiple of 32): 512 is the trained size; smaller trades tiny faces for speed. */
  readonly detectorInputSize: number;
  readonly minDetectionScore: number;
  /** Used once, on a padded copy of the image, when nothing reaches minDetectionScore. */
  readonly fallbackDetectionScore: number;
  readonly dominanceRatio: number;
  /** onnxruntime intra-op threads per session. */
  readonly threads: number;
  readonly decode: DecodeLimits;
  readonly quality: QualityThresholds;
}

/**
 * Deliberately permissive: measured on faces-lfw-dev, every usable news photo passes, while a
 * Gaussian blur of σ ≥ 2, a 5× darkening or a blown-out exposure does not.
 */
export const DEFAULT_QUALITY: QualityThresholds = {
  minEyeDistance: 20,
  minSharpness: 7,
  maxYaw: 0.6,
  maxRollDegrees: 40,
  minBrightness: 45,
  maxBrightness: 210,
  maxClipped: 0.25,
};

export const DEFAULT_PIPELINE_OPTIONS: FacePipelineOptions = {
  detectorInputSize: 256,
  minDetectionScore: 0.5,
  fallbackDetectionScore: 0.2,
  dominanceRatio: DOMINANCE_RATIO,
  threads: 2,
  decode: DEFAULT_DECODE_LIMITS,
  quality: DEFAULT_QUALITY,
};

export interface FaceAnalysis {
  /** L2-normalised 128-D embedding. */
  readonly embedding: Float32Array;
  /** 68 points in image pixels (iBUG 300-W order). */
  readonly landmarks: readonly Point[];
  /** The chosen face's detection box in image pixels, and its detector score. */
  readonly box: Box;
  readonly score: number;
  readonly quality: QualityReport;
  /** Presentation-attack detection: bona-fide score of the chip, 0..1 (models/face-pad.md). */
  readonly pad: number;
  readonly imageSize: { readonly width: number; readonly height: number };
}

export interface FaceCrop {
  readonly face: Detection;
  readonly landmarks: readonly Point[];
  /** The aligned CHIP_SIZE×CHIP_SIZE chip, NHWC floats 0..255. */
  readonly chip: Float32Array;
  readonly imageSize: { readonly width: number; readonly height: number };
}

export class FacePipeline {
  private constructor(
    private readonly detector: FaceDetector,
    private readonly landmarker: Landmarker,
    private readonly embedder: Embedder,
    private readonly pad: PadModel,
    readonly options: FacePipelineOptions,
  ) {}

  /** Loads the four models once; the instance is safe to share between concurrent requests. */
  static async create(modelsDir: string, options: Partial<FacePipelineOptions> = {}): Promise<FacePipeline> {
    const o = { ...DEFAULT_PIPELINE_OPTIONS, ...options };
    const [detector, landmarker, embedder, pad] = await Promise.all([
      FaceDetector.create(join(modelsDir, MODEL_FILES.detector), o.detectorInputSize, o.threads),
      Landmarker.create(join(modelsDir, MODEL_FILES.landmarks), o.threads),
      Embedder.create(join(modelsDir, MODEL_FILES.recognition), o.threads),
      // A small graph: one thread is enough, and leaves the other core to concurrent requests.
      PadModel.create(join(modelsDir, MODEL_FILES.pad), 1),
    ]);
    return new FacePipeline(detector, landmarker, embedder, pad, o);
  }

  /**
   * Analyses one photo or frame; throws FaceError (with a reason code) if it cannot be used.
   * `quality` overrides the configured thresholds for this call, e.g. to accept the turned heads
   * of a liveness challenge's frames.
   */
  async analyse(bytes: Uint8Array, quality: QualityThresholds = this.options.quality): Promise<FaceAnalysis> {
    const { face, landmarks, chip, imageSize } = await this.crop(bytes);
    const report = assessQuality(landmarks, chip, quality);
    const [failure] = report.failures;
    if (failure) throw new FaceError(failure, `capture rejected: ${report.failures.join(', ')}`, { quality: report });
    const embedding = await this.embedder.embed(chip);
    const [pad] = await this.pad.scores([chip]);
    return { embedding, landmarks, box: face.box, score: face.score, quality: report, pad: pad!, imageSize };
  }

  /**
   * The face found, located and aligned, before any quality check: the chip every model of the
   * pipeline reads. Exposed so that offline training sees exactly the crop the server computes.
   */
  async crop(bytes: Uint8Array): Promise<FaceCrop> {
    const image = await decodeImage(bytes, this.options.decode);
    const face = await this.findFace(image);
    const landmarks = await this.landmarker.locate(image, face.box);
    return { face, landmarks, chip: alignedChip(image, landmarks), imageSize: { width: image.width, height: image.height } };
  }

  private async findFace(image: RgbImage): Promise<Detection> {
    const { minDetectionScore, fallbackDetectionScore, dominanceRatio } = this.options;
    const detections = await this.detector.detect(image, { minScore: minDetectionScore, maxIou: 0.5, maxFaces: 20 });
    if (detections.length > 0) return chooseFace(detections, image, dominanceRatio);
    // Tight crops (the face fills the frame) are missed at the trained anchor scales: give the
    // detector context and accept a weaker score once, still requiring a single clear face.
    const padded = padImage(image, 0.25);
    const retry = await this.detector.detect(padded.image, { minScore: fallbackDetectionScore, maxIou: 0.5, maxFaces: 20 });
    const chosen = chooseFace(retry, padded.image, dominanceRatio);
    const { x, y, width, height } = chosen.box;
    return { score: chosen.score, box: { x: x - padded.offset, y: y - padded.offset, width, height } };
  }
}
