// Face embeddings of a photo folder through the real pipeline, and the face score of two photos.
import { embeddingDistance, FacePipeline } from '../../src/biometrics/face/index.js';
import type { ScoreSet } from '../../src/biometrics/face/evaluation.js';
import { embedImages, listIdentityImages, pairScores, type FaceSample } from '../face-dataset.js';
import { repoPath } from '../neural/dataset.js';

/** The face step's score: euclidean distance of the plain embeddings (lower = same person). */
export const faceScore = (a: FaceSample, b: FaceSample): number => embeddingDistance(a.embedding!, b.embedding!);

export async function embedFaceFolder(root: string, progress: (line: string) => void): Promise<{ samples: FaceSample[]; failedToAcquire: number }> {
  const pipeline = await FacePipeline.create(repoPath('models'));
  const { files } = await listIdentityImages(root);
  const { samples, failures } = await embedImages(files, async (bytes) => (await pipeline.analyse(bytes)).embedding, progress);
  return { samples, failedToAcquire: Object.values(failures).reduce((a, b) => a + b, 0) };
}

/** Every pair of acquired photos: same folder genuine, different folders impostor. */
export function facePairScores(samples: readonly FaceSample[]): ScoreSet {
  return pairScores(samples, true, faceScore);
}
