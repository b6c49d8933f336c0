// Greedy non-maximum suppression over scored boxes.
import type { Box } from './image.js';

export interface Scored {
  readonly box: Box;
  readonly score: number;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Keeps the best-scoring boxes, dropping any that overlap a kept one by more than `maxIou`. */
export function nonMaxSuppression<T extends Scored>(candidates: readonly T[], maxIou: number, limit: number): T[] {
  const sorted = [...candidates].sort((p, q) => q.score - p.score);
  const kept: T[] = [];
  for (const c of sorted) {
    if (kept.length >= limit) break;
    if (kept.every((k) => iou(k.box, c.box) <= maxIou)) kept.push(c);
  }
  return kept;
}
