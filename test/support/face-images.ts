// Face images for tests, built at test time from the shared photo sets (never committed):
// bad input of every kind, and head-movement bursts chosen from real photos by their pose.
import { deflateSync } from 'node:zlib';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { FacePipeline } from '../../src/biometrics/face/index.js';
import { BURST_QUALITY } from '../../src/steps/face/burst.js';
import type { ChallengeKind } from '../../src/steps/face/challenge.js';
import { headPose, type HeadPose } from '../../src/steps/face/head-pose.js';

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

const MOVES: Record<ChallengeKind, { axis: keyof HeadPose; sign: number; reach: number }> = {
  turn_left: { axis: 'yaw', sign: 1, reach: 0.25 },
  turn_right: { axis: 'yaw', sign: -1, reach: 0.25 },
  look_up: { axis: 'pitch', sign: -1, reach: 0.13 },
  look_down: { axis: 'pitch', sign: 1, reach: 0.13 },
};

/**
 * Builds head-movement bursts from a person's posed photos, as a camera would see a head move:
 * a photo facing the camera first, then photos further and further along the asked direction.
 * Each photo (and its mirror) is used in one burst only, so no two bursts share a picture.
 */
export class BurstBuilder {
  private readonly used = new Set<string>();

  constructor(private readonly photos: readonly PosedPhoto[]) {}

  take(kind: ChallengeKind, frames = 5): { frames: Buffer[]; names: string[] } {
    const { axis, sign, reach } = MOVES[kind];
    const free = this.photos.filter((p) => !this.used.has(base(p.name)));
    const along = (p: PosedPhoto) => sign * p.pose[axis];
    // A head moving one way keeps the other axis about where it started, as a real turn or nod does.
    const other = axis === 'yaw' ? 'pitch' : 'yaw';
    const steady = (p: PosedPhoto, start: PosedPhoto) => Math.abs(p.pose[other] - start.pose[other]) <= STEADY[other];
    const starts = free.filter((p) => Math.abs(p.pose.yaw) <= 0.06).sort((a, b) => along(a) - along(b));
    for (const start of starts) {
      const path = free.filter((p) => base(p.name) !== base(start.name) && along(p) > along(start) && steady(p, start)).sort((a, b) => along(a) - along(b));
      const end = path.findLast((p) => along(p) - along(start) >= reach);
      if (!end || path.length < frames - 1) continue;
      // Intermediate poses spread between start and end, then the end pose.
      const between = path.filter((p) => along(p) < along(end) && base(p.name) !== base(end.name));
      const picked: PosedPhoto[] = [];
      for (let i = 1; i <= frames - 2 && between.length; i++) {
        const target = along(start) + ((along(end) - along(start)) * i) / (frames - 1);
        const next = between.filter((p) => !picked.some((q) => base(q.name) === base(p.name))).sort((a, b) => Math.abs(along(a) - target) - Math.abs(along(b) - target))[0];
        if (next) picked.push(next);
      }
      if (picked.length !== frames - 2) continue;
      const burst = [start, ...picked.sort((a, b) => along(a) - along(b)), end];
      for (const p of burst) this.used.add(base(p.name));
      return { frames: burst.map((p) => p.bytes), names: burst.map((p) => p.name) };
    }
    throw new Error(`not enough photos left for a ${kind} burst`);
  }

  /**
   * Unused photos by yaw band, in order (each band sorted by yaw), all with about the same pitch
   * (a head turning, not nodding); for clips rather than bursts.
   */
  takeSequence(bands: { count: number; yaw: [number, number] }[]): PosedPhoto[] {
    const free = this.photos.filter((p) => !this.used.has(base(p.name)));
    const last = bands[bands.length - 1]!;
    // The scarcest band (the most turned photos) sets the pitch the others must keep.
    for (const reference of free.filter((p) => p.pose.yaw >= last.yaw[0] && p.pose.yaw <= last.yaw[1])) {
      const out: PosedPhoto[] = [];
      for (const { count, yaw } of bands) {
        const band: PosedPhoto[] = [];
        for (const p of free) {
          const taken = [...out, ...band].some((q) => base(q.name) === base(p.name));
          const fits = p.pose.yaw >= yaw[0] && p.pose.yaw <= yaw[1] && Math.abs(p.pose.pitch - reference.pose.pitch) <= STEADY.pitch;
          if (band.length < count && !taken && fits) band.push(p);
        }
        if (band.length < count) break;
        out.push(...band.sort((a, b) => a.pose.yaw - b.pose.yaw));
      }
      if (out.length !== bands.reduce((n, b) => n + b.count, 0)) continue;
      for (const p of out) this.used.add(base(p.name));
      return out;
    }
    throw new Error(`not enough photos for the sequence ${JSON.stringify(bands)}`);
  }
}

const base = (name: string) => name.replace(' (mirrored)', '');

export const CLIP = { width: 640, height: 480, fps: 10, framesPerPhoto: 2, markerFrames: 2 } as const;

/**
 * A camera clip (YUV4MPEG2, for Chromium's fake capture device) of a head turning to the user's
 * left, from real photos of one person: 8 photos facing the camera, 5 turning, 4 turned, each held
 * 200 ms, on a grey background. A white square in the top-left corner marks the loop's first
 * frames, so a test can start the capture in step with the clip. Photos used here are not used again.
 */
export async function headTurnClip(builder: BurstBuilder): Promise<Buffer> {
  const photos = builder.takeSequence([
    { count: 8, yaw: [-0.05, 0.05] },
    { count: 5, yaw: [0.06, 0.18] },
    { count: 4, yaw: [0.19, 1] },
  ]);
  const header = Buffer.from(`YUV4MPEG2 W${CLIP.width} H${CLIP.height} F${CLIP.fps}:1 Ip A1:1 C420jpeg\n`);
  const frames: Buffer[] = [header];
  let index = 0;
  for (const photo of photos) {
    const side = 400;
    const face = await sharp(photo.bytes).resize(side, side).toBuffer();
    for (let k = 0; k < CLIP.framesPerPhoto; k++, index++) {
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
