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

  /** The amr values each step contributed to a session's amr, by step id (steps it shows no sign of are absent). */
  amrBySteps(amr: readonly string[]): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const step of this.steps.values()) {
      const values = step.amrIn ? step.amrIn(amr) : amr.includes(step.amr) ? [step.amr] : [];
      if (values.length) found.set(step.id, values);
    }
    return found;
  }

  /** The steps a session's amr shows were done. */
  doneIn(amr: readonly string[]): string[] {
    return [...this.amrBySteps(amr).keys()];
  }

  /** What people call the methods behind amr values, each once (a value no step claims is shown as is). */
  methodNames(amr: readonly string[]): string {
    const claimedBy = new Map<string, string>();
    for (const [id, values] of this.amrBySteps(amr)) for (const value of values) if (!claimedBy.has(value)) claimedBy.set(value, this.require(id).label);
    return [...new Set(amr.map((value) => claimedBy.get(value) ?? value))].join(', ');
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
