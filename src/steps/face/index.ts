import { join } from 'node:path';
import type { Config } from '../../../config/schema.js';
import { MODEL_FILES } from '../../biometrics/face/index.js';
import { calibrationBeside } from '../../biometrics/fusion/index.js';
import type { CredentialThrottle } from '../../security/credential-throttle.js';
import { SealedBox } from '../../security/sealed-box.js';
import { SealedMemory } from '../../security/sealed-memory.js';
import type { Services } from '../../services.js';
import { BurstReader } from './burst.js';
import { Challenges } from './challenge.js';
import { FaceAnalyser } from './face-analyser.js';
import { FaceStep } from './face-step.js';
import { FaceTemplates } from './face-templates.js';
import { ReplayGuard } from './replay-guard.js';

// Frames seen in a burst are remembered this long for the replay check.
const REPLAY_MEMORY_SECONDS = 24 * 3600;

/** The face step with the process's face analyser (a worker thread, started by `warm`, ended by `close`). */
export function createFaceStep(config: Config, services: Services, throttle: CredentialThrottle, modelsDir: string): FaceStep {
  const master = services.masterKey.key;
  const analyser = new FaceAnalyser(modelsDir);
  const challenges = new Challenges(new SealedBox(master, 'face-challenge'), services.shortLivedRecords, config.faceChallenges, config.faceChallengeMoves, config.faceChallengeSeconds);
  const bursts = new BurstReader(analyser, challenges, new ReplayGuard(services.shortLivedRecords, new SealedMemory(new SealedBox(master, 'face-replay'), services.log), REPLAY_MEMORY_SECONDS), services.rateCounter, config.facePadThreshold);
  const calibration = calibrationBeside(join(modelsDir, MODEL_FILES.recognition));
  return new FaceStep(FaceTemplates.forMasterKey(services.db, master), bursts, challenges, throttle, services.audit, config.faceMatchThreshold, analyser, calibration);
}
