import type { ClientMetadata } from 'oidc-provider';
import { requirementsOf, type Config, type Requirement } from '../../config/schema.js';
import { ConfigError } from '../../config/load.js';
import type { Account } from '../accounts/accounts.js';
import type { StepRegistry } from '../steps/registry.js';
import type { Step } from '../steps/step.js';

export interface Flow {
  name: string;
  requirements: Requirement[];
  // Whether a required step the account lacks may be set up during this sign-in.
  enrollAtLogin: boolean;
  // The acr a completed flow is reported with (the first acr value mapped to it).
  acr?: string;
}

export type NextStep =
  | { kind: 'step'; step: Step }
  | { kind: 'complete' }
  // The account lacks a required step it may set up now.
  | { kind: 'enroll'; step: Step }
  // The account lacks a step the flow insists on.
  | { kind: 'blocked'; missing: string[] };

const stepsOf = (r: Requirement) => ('step' in r ? [r.step] : r.anyOf);
const countOf = (r: Requirement) => ('step' in r ? 1 : r.count);

/**
 * Decides which flow a sign-in follows (by requested acr, client or default) and which step
 * comes next. Knows nothing about any particular step beyond the registry's interface.
 */
export class FlowPolicy {
  private readonly flows = new Map<string, Flow>();

  constructor(
    private readonly config: Pick<Config, 'flows' | 'acr' | 'defaultFlow'>,
    private readonly registry: StepRegistry,
  ) {
    const problems: string[] = [];
    for (const [name, flowConfig] of Object.entries(config.flows)) {
      const requirements = requirementsOf(flowConfig);
      for (const id of requirements.flatMap(stepsOf)) if (!registry.get(id)) problems.push(`flows.${name}: unknown step ${id} (known: ${registry.ids().join(', ')})`);
      const first = requirements[0];
      if (first && stepsOf(first).some((id) => registry.get(id) && !registry.require(id).identifies)) {
        problems.push(`flows.${name}: the first requirement must identify the user (e.g. password)`);
      }
      const acr = Object.entries(config.acr).find(([, flow]) => flow === name)?.[0];
      this.flows.set(name, { name, requirements, acr, enrollAtLogin: !Array.isArray(flowConfig) && flowConfig.enrollAtLogin });
    }
    if (problems.length) throw new ConfigError(problems);
  }

  /** Every step some configured flow can ask for. */
  stepsInUse(): Set<string> {
    return new Set([...this.flows.values()].flatMap((f) => f.requirements.flatMap(stepsOf)));
  }

  get acrValues(): string[] {
    return Object.keys(this.config.acr);
  }

  /** The flow for a request: the first supported requested acr, else the client's, else the default. */
  resolve(requestedAcr: string[], client: ClientMetadata | undefined): Flow {
    for (const acr of requestedAcr) {
      const name = this.config.acr[acr];
      if (name) return { ...this.flows.get(name)!, acr };
    }
    const own = typeof client?.tessera_flow === 'string' ? this.flows.get(client.tessera_flow) : undefined;
    return own ?? this.flows.get(this.config.defaultFlow)!;
  }

  has(name: string): boolean {
    return this.flows.has(name);
  }

  /** A named flow, with any extra steps required for this sign-in appended. */
  byName(name: string, extra: string[] = []): Flow {
    const flow = this.flows.get(name);
    if (!flow) throw new Error(`unknown flow ${name}`);
    const added = extra.filter((id) => !flow.requirements.some((r) => stepsOf(r).includes(id)));
    return added.length ? { ...flow, requirements: [...flow.requirements, ...added.map((step) => ({ step }))] } : flow;
  }

  /** Whether steps already done (by their amr values) complete the flow of any of these acr values. */
  async satisfiedBy(acrValues: string[], amr: string[], account: Account | undefined): Promise<boolean> {
    const done = new Set(this.registry.ids().filter((id) => amr.includes(this.registry.require(id).amr)));
    for (const acr of acrValues) {
      const name = this.config.acr[acr];
      if (name && (await this.next(this.byName(name), done, account)).kind === 'complete') return true;
    }
    return false;
  }

  /** The first step still needed, given the steps done so far and what the account has enrolled. */
  async next(flow: Flow, done: Set<string>, account: Account | undefined): Promise<NextStep> {
    for (const requirement of flow.requirements) {
      const ids = stepsOf(requirement);
      const need = countOf(requirement) - ids.filter((id) => done.has(id)).length;
      if (need <= 0) continue;
      const open: Step[] = [];
      for (const id of ids.filter((i) => !done.has(i))) {
        const step = this.registry.require(id);
        if (!account || (await step.isEnrolled(account))) open.push(step);
      }
      if (open.length < need) {
        const missing = ids.filter((id) => !done.has(id));
        const enrollable = flow.enrollAtLogin ? missing.map((id) => this.registry.require(id)).find((s) => s.enrollment) : undefined;
        return enrollable ? { kind: 'enroll', step: enrollable } : { kind: 'blocked', missing };
      }
      return { kind: 'step', step: open[0]! };
    }
    return { kind: 'complete' };
  }
}
