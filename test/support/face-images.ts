// Face images for tests, built at test time from the shared photo sets (never committed):
// bad input of every kind, and head-movement bursts chosen from real photos by their pose.
import { deflateSync } from 'node:zlib';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { FacePipeline } from '../../src/biometrics/face/index.js';
import { BURST_QUALITY, framesPerMove } from '../../src/steps/face/burst.js';
import type { ChallengeKind } from '../../src/steps/face/challenge.js';
import { faceShape } from '../../src/steps/face/face-shape.js';
import { faceHash } from '../../src/steps/face/frame-hash.js';
import { headPose, type HeadPose } from '../../src/steps/face/head-pose.js';
import type { BurstFrame } from '../../src/steps/face/liveness.js';

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A PNG whose header declares width×height, with one zlib-compressed row: a decompression-bomb shape. */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Bad frames the face step must refuse, each with the reason the pipeline gives. */
export async function badFrames(portrait: Buffer) {
  const meta = await sharp(portrait).metadata();
  const twins = await sharp({ create: { width: meta.width! * 2, height: meta.height!, channels: 3, background: '#808080' } })
    .composite([{ input: portrait, left: 0, top: 0 }, { input: portrait, left: meta.width!, top: 0 }])
    .jpeg()
    .toBuffer();
  const landscape = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a6ea5' } }).jpeg().toBuffer();
  return {
    not_an_image: Buffer.from('this is not a picture'),
    truncated_image: portrait.subarray(0, Math.floor(portrait.length * 0.6)),
    too_many_pixels: pngDeclaring(20000, 20000),
    no_face: landscape,
    multiple_faces: twins,
    face_too_small: await sharp(portrait).resize(48, 48).jpeg().toBuffer(),
  };
}

/** A frame as the face step reads it (burst.ts): embedding, head pose, face hash and landmark shape. */
export async function analyseFrame(pipeline: Pick<FacePipeline, 'analyse'>, bytes: Buffer): Promise<BurstFrame> {
  const analysis = await pipeline.analyse(bytes, BURST_QUALITY);
  return { embedding: analysis.embedding, pose: headPose(analysis.landmarks), hash: await faceHash(bytes, analysis.box, analysis.imageSize), shape: faceShape(analysis.landmarks) };
}

/** The movements a face page asks for (its `data-challenge`), in order. */
export const challengeOn = (html: string) => (/data-challenge="([a-z_ ]+)"/.exec(html)?.[1] ?? '').split(' ') as ChallengeKind[];

export interface PosedPhoto {
  readonly name: string;
  readonly bytes: Buffer;
  readonly pose: HeadPose;
}

/**
 * Every photo of one person with its head pose as the face step estimates it, plus each photo's
 * mirror image (a real face turned the other way). Photos the pipeline refuses are left out.
 */
export async function posedPhotos(pipeline: Pick<FacePipeline, 'analyse'>, dir: string): Promise<PosedPhoto[]> {
  const out: PosedPhoto[] = [];
  for (const file of (await readdir(dir)).filter((f) => /\.jpe?g$/i.test(f)).sort()) {
    const original = await readFile(join(dir, file));
    for (const [name, bytes] of [[file, original], [`${file} (mirrored)`, await sharp(original).flop().jpeg({ quality: 95 }).toBuffer()]] as const) {
      try {
        out.push({ name, bytes, pose: headPose((await pipeline.analyse(bytes, BURST_QUALITY)).landmarks) });
      } catch {
        // Not usable as a frame (no face, blurred...): not a candidate.
      }
    }
  }
  return out;
}

// How far the axis not asked for may wander between the photos of one burst.
const STEADY = { yaw: 0.08, pitch: 0.05 };

// How far each movement goes from the start photo: a margin over the step's smallest accepted change.
const MOVES: Record<ChallengeKind, { axis: keyof HeadPose; sign: number; reach: number }> = {
  turn_left: { axis: 'yaw', sign: 1, reach: 0.21 },
  turn_right: { axis: 'yaw', sign: -1, reach: 0.21 },
  look_up: { axis: 'pitch', sign: -1, reach: 0.11 },
  look_down: { axis: 'pitch', sign: 1, reach: 0.11 },
};


/**
 * Capture times for `count` frames taken `gapMs` apart, as the page reports them (milliseconds
 * since it showed the challenge). Waits as long as that capture would take, so the times fit a
 * challenge issued just before.
 */
export async function liveCaptureTimes(count: number, gapMs = 60): Promise<{ frameTimes: string }> {
  await new Promise((resolve) => setTimeout(resolve, (count - 1) * gapMs + 10));
  return { frameTimes: Array.from({ length: count }, (_, i) => i * gapMs).join(',') };
}

/**
 * Builds head-movement bursts from a person's posed photos, as a camera would see a head move:
 * a photo facing the camera first; for each movement, photos on the way and one that got there
 * (further along its axis, the other axis steady); between movements, a photo back at the centre.
 * A photo is used in one burst only, and so is its mirror: the replay check rightly takes a mirrored
 * near-frontal photo for a copy of the original.
 */
export class BurstBuilder {
  private readonly used = new Set<string>();

  constructor(private readonly photos: readonly PosedPhoto[]) {}

  take(moves: readonly ChallengeKind[]): { frames: Buffer[]; names: string[] } {
    const perMove = framesPerMove(moves.length);
    const free = this.unused();
    for (const start of free.filter((p) => Math.abs(p.pose.yaw) <= 0.06)) {
      const burst = [start];
      const unused = (p: PosedPhoto) => !burst.some((q) => base(q.name) === base(p.name));
      const offset = (p: PosedPhoto, axis: keyof HeadPose) => p.pose[axis] - start.pose[axis];
      const still = (p: PosedPhoto, axis: keyof HeadPose) => Math.abs(offset(p, axis)) <= STEADY[axis];
      const complete = moves.every((move, i) => {
        if (i > 0) {
          const centre = free.find((p) => unused(p) && still(p, 'yaw') && still(p, 'pitch'));
          if (!centre) return false;
          burst.push(centre);
        }
        const { axis, sign, reach } = MOVES[move];
        const other = axis === 'yaw' ? 'pitch' : 'yaw';
        const along = (p: PosedPhoto) => sign * offset(p, axis);
        const end = free.filter((p) => unused(p) && still(p, other) && along(p) >= reach).sort((a, b) => along(a) - along(b))[0];
        if (!end) return false;
        const way: PosedPhoto[] = [];
        for (const p of free.filter((p) => still(p, other) && along(p) > 0.02 && along(p) < reach).sort((a, b) => along(b) - along(a))) {
          if (way.length < perMove - 1 && unused(p) && base(p.name) !== base(end.name) && !way.some((q) => base(q.name) === base(p.name))) way.push(p);
        }
        if (way.length < perMove - 1) return false;
        burst.push(...way.reverse(), end);
        return true;
      });
      if (!complete) continue;
      for (const p of burst) this.used.add(base(p.name));
      return { frames: burst.map((p) => p.bytes), names: burst.map((p) => p.name) };
    }
    throw new Error(`not enough photos left for a ${moves.join(' → ')} burst`);
  }

  /**
   * Unused photos by yaw band, in order (each band sorted by yaw), all with about the same pitch
   * (a head turning, not nodding); for clips rather than bursts. Undefined when there are not enough.
   */
  takeSequence(bands: { count: number; yaw: readonly [number, number] }[]): PosedPhoto[] | undefined {
    const free = this.unused();
    // One photo's pitch is the one all must keep, within 0.04: no two photos then differ by 0.1, a nod.
    for (const reference of free) {
      const out: PosedPhoto[] = [];
      for (const { count, yaw } of bands) {
        const band: PosedPhoto[] = [];
        for (const p of free) {
          const taken = [...out, ...band].some((q) => base(q.name) === base(p.name));
          const fits = p.pose.yaw >= yaw[0] && p.pose.yaw <= yaw[1] && Math.abs(p.pose.pitch - reference.pose.pitch) <= 0.04;
          if (band.length < count && !taken && fits) band.push(p);
        }
        if (band.length < count) break;
        out.push(...band.sort((a, b) => a.pose.yaw - b.pose.yaw));
      }
      if (out.length !== bands.reduce((n, b) => n + b.count, 0)) continue;
      for (const p of out) this.used.add(base(p.name));
      return out;
    }
    return undefined;
  }

  private unused(): PosedPhoto[] {
    return this.photos.filter((p) => !this.used.has(base(p.name)));
  }
}

const base = (name: string) => name.replace(' (mirrored)', '');

export const CLIP = { width: 640, height: 480, fps: 10, framesPerPhoto: 2, markerFrames: 2 } as const;

/**
 * A camera clip (YUV4MPEG2, for Chromium's fake capture device) of a head turning to the user's
 * left, back to the centre, then to the right, from real photos of one person, in steps of 200 ms
 * on a grey background: 1.6 s facing the camera, 0.4 s turning left, 0.8 s turned, 0.8 s back at
 * the centre, 0.4 s turning right, 0.8 s turned. This matches the capture page's pace (a frame at
 * 1.2 s, two 0.5 s apart for each movement, one 0.9 s after the first movement back at the centre).
 * A white square in the top-left corner marks the loop's first frames, so a test can start the
 * capture in step with the clip. Photos used here are not used again.
 */
export async function leftThenRightClip(builder: BurstBuilder): Promise<Buffer> {
  // Both turns reach 0.25 beyond the photos facing the camera (the step asks for 0.2; a photo's yaw
  // measured in the clip differs from the original's by up to about 0.02). Few photos are turned
  // that far, so the photos facing the camera may lean a little to one side.
  const bandsAround = (centre: number) => [
    { count: 4, yaw: [centre - 0.02, centre + 0.02], steps: 2 },
    { count: 2, yaw: [centre + 0.06, centre + 0.19], steps: 1 },
    { count: 1, yaw: [centre + 0.25, 1], steps: 4 },
    { count: 2, yaw: [centre - 0.05, centre + 0.05], steps: 2 },
    { count: 2, yaw: [centre - 0.19, centre - 0.06], steps: 1 },
    { count: 1, yaw: [-1, centre - 0.25], steps: 4 },
  ] as const;
  let bands: ReturnType<typeof bandsAround> | undefined;
  let photos: PosedPhoto[] | undefined;
  for (const centre of [0, 0.02, -0.02, 0.04, -0.04, 0.06, -0.06]) {
    bands = bandsAround(centre);
    photos = builder.takeSequence(bands.map(({ count, yaw }) => ({ count, yaw })));
    if (photos) break;
  }
  if (!photos || !bands) throw new Error('not enough photos for a left-then-right clip');
  const steps = bands.flatMap(({ count, steps }) => Array<number>(count).fill(steps));
  const header = Buffer.from(`YUV4MPEG2 W${CLIP.width} H${CLIP.height} F${CLIP.fps}:1 Ip A1:1 C420jpeg\n`);
  const frames: Buffer[] = [header];
  let index = 0;
  for (const [i, photo] of photos.entries()) {
    const side = 400;
    const face = await sharp(photo.bytes).resize(side, side).toBuffer();
    for (let k = 0; k < CLIP.framesPerPhoto * steps[i]!; k++, index++) {
      const layers: OverlayOptions[] = [{ input: face, left: (CLIP.width - side) / 2, top: (CLIP.height - side) / 2 }];
      const marker = index < CLIP.markerFrames ? 255 : 0;
      layers.push({ input: { create: { width: 32, height: 32, channels: 3, background: { r: marker, g: marker, b: marker } } }, left: 0, top: 0 });
      const { data, info } = await sharp({ create: { width: CLIP.width, height: CLIP.height, channels: 3, background: '#6b6b6b' } })
        .composite(layers)
        .raw()
        .toBuffer({ resolveWithObject: true });
      frames.push(Buffer.from('FRAME\n'), toI420(data, info.channels, CLIP.width, CLIP.height));
    }
  }
  return Buffer.concat(frames);
}

/** Full-range BT.601 (JPEG) RGB(A) → planar YUV 4:2:0. */
function toI420(rgb: Buffer, channels: number, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 1.5);
  const u0 = width * height;
  const v0 = u0 + (width * height) / 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      out[y * width + x] = Math.round(0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!);
      if (y % 2 === 0 && x % 2 === 0) {
        const c = (y / 2) * (width / 2) + x / 2;
        out[u0 + c] = clamp(128 - 0.168736 * rgb[i]! - 0.331264 * rgb[i + 1]! + 0.5 * rgb[i + 2]!);
        out[v0 + c] = clamp(128 + 0.5 * rgb[i]! - 0.418688 * rgb[i + 1]! - 0.081312 * rgb[i + 2]!);
      }
    }
  }
  return out;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
