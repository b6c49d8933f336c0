// When the frames of a burst were taken, as the capture page reports it (milliseconds since it
// showed the challenge), held against the server's clock: a burst recorded before the challenge
// existed, or frames that no camera would deliver at that pace, do not answer it.
import type { Challenge } from './challenge.js';

// A camera delivers at most about 30 frames a second; a burst is one continuous capture.
export const MIN_FRAME_GAP_MS = 30;
export const MAX_FRAME_GAP_MS = 5000;

export type CaptureTimes =
  | { ok: true; times: number[] }
  | { ok: false; reason: 'capture_times_missing' | 'capture_times_implausible' | 'captured_before_challenge' | 'capture_too_slow' };

/** Parses the `frameTimes` field ("0,480,960,…", one per frame) and checks it against `challenge`. */
export function checkCaptureTimes(field: string | undefined, frames: number, challenge: Challenge, windowSeconds: number, now = Date.now()): CaptureTimes {
  const parts = field?.split(',').map((p) => p.trim()) ?? [];
  if (parts.length !== frames || !parts.every((p) => /^-?\d{1,9}$/.test(p))) return { ok: false, reason: 'capture_times_missing' };
  const times = parts.map(Number);
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap < MIN_FRAME_GAP_MS || gap > MAX_FRAME_GAP_MS) return { ok: false, reason: 'capture_times_implausible' };
  }
  const last = times.at(-1)!;
  if (last > windowSeconds * 1000) return { ok: false, reason: 'capture_too_slow' };
  // The page showed the challenge after it was issued, and uploaded after the last frame: a
  // claimed span longer than the challenge's age means frames from before the challenge.
  if (times[0]! < 0 || last > now - challenge.issuedAt) return { ok: false, reason: 'captured_before_challenge' };
  return { ok: true, times };
}
