import type { Account } from '../../accounts/accounts.js';
import { findNeuralModel, type NeuralModel } from '../../biometrics/neural/model-catalog.js';
import type { MontageName } from '../../biometrics/neural/montage.js';
import { WorkerSlot } from '../../biometrics/worker/worker-slot.js';
import { ContinuousModel, ContinuousVerifier, type ContinuousPolicy, type Refusal } from '../../continuous/index.js';
import { refusal } from '../../continuous/stream-protocol.js';
import type { StepStreams } from '../../continuous/step-streams.js';
import type { NeuralCredentials } from './neural-credentials.js';

/**
 * Continuous verification for the EEG step: each stream's windows are scored against the
 * account's template by the model that made it (one worker thread per model in use, shared by
 * all streams of the process), as a sign-in probe would be.
 */
export class NeuralStreams implements StepStreams {
  private readonly models = new Map<string, WorkerSlot<ContinuousModel>>();

  constructor(
    private readonly credentials: NeuralCredentials,
    private readonly montage: MontageName,
  ) {}

  private modelFor(model: NeuralModel): Promise<ContinuousModel> {
    let slot = this.models.get(model.id);
    if (!slot) {
      slot = new WorkerSlot(() => ContinuousModel.forModel(model));
      this.models.set(model.id, slot);
    }
    return slot.get();
  }

  async open(account: Account, options: { hello: string; policy: ContinuousPolicy; initialLlr: number }): Promise<ContinuousVerifier | Refusal> {
    const template = await this.credentials.template(account.id);
    const model = template ? findNeuralModel(template.model) : undefined;
    // Removed or reset since the sign-in: nothing left to verify against.
    if (!template || model?.montage !== this.montage) return refusal('session_over', 'the brain-signal enrolment of this session is gone');
    const continuous = await this.modelFor(model);
    if (!continuous.calibration) return refusal('session_over', 'this enrolment was made with a model that cannot verify continuously');
    // The cosine at the angle the template estimates, exactly as a sign-in probe is scored.
    const angleTo = this.credentials.scheme.matcher(template.stored);
    return ContinuousVerifier.open({
      ...options,
      model: continuous,
      match: (embedding) => Math.cos(angleTo(embedding)),
      calibration: continuous.calibration,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((slot) => slot.close()));
  }
}
