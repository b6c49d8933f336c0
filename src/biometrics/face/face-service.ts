// The face pipeline as a model-worker service (see ../worker/model-host.ts).
import type { ModelService } from '../worker/model-host.js';
import { FacePipeline, type FaceAnalysis, type FacePipelineOptions } from './pipeline.js';
import type { QualityThresholds } from './quality.js';

export interface FaceRequest {
  readonly bytes: Uint8Array;
  readonly quality?: QualityThresholds;
}

export interface FaceSetup {
  readonly modelsDir: string;
  readonly options: Partial<FacePipelineOptions>;
}

export async function createService(setup: FaceSetup): Promise<ModelService<FaceRequest, FaceAnalysis>> {
  const pipeline = await FacePipeline.create(setup.modelsDir, setup.options);
  return {
    info: undefined,
    handle: (request) => pipeline.analyse(request.bytes, request.quality),
  };
}
