import type { Account } from '../accounts/accounts.js';
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

  /** What people call the methods behind amr values (a value no step claims is shown as is). */
  methodNames(amr: readonly string[]): string {
    const steps = [...this.steps.values()];
    return amr.map((value) => steps.find((s) => s.amr === value)?.label ?? value).join(', ');
  }

  ids(): string[] {
    return [...this.steps.keys()];
  }

  /** Each step (of those `which` picks, in registry order) with whether the account has it set up. */
  enrollmentOf(account: Account, which: (step: Step) => boolean = () => true): Promise<{ step: Step; enrolled: boolean }[]> {
    const picked = [...this.steps.values()].filter(which);
    return Promise.all(picked.map(async (step) => ({ step, enrolled: await step.isEnrolled(account) })));
  }
}
