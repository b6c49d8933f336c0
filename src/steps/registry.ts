import type { Step } from './step.js';

/** The steps this server offers, by id. */
export class StepRegistry {
  private readonly steps = new Map<string, Step>();

  constructor(steps: Step[]) {
    for (const step of steps) {
      if (this.steps.has(step.id)) throw new Error(`step ${step.id} registered twice`);
      this.steps.set(step.id, step);
    }
  }

  get(id: string): Step | undefined {
    return this.steps.get(id);
  }

  require(id: string): Step {
    const step = this.steps.get(id);
    if (!step) throw new Error(`unknown step: ${id}`);
    return step;
  }

  ids(): string[] {
    return [...this.steps.keys()];
  }
}
