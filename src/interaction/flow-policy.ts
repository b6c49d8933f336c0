import type { ClientMetadata } from 'oidc-provider';
import { flowProblems, stepsOf, type FlowSet } from '../../config/flows.js';
import { ConfigError } from '../../config/load.js';
import { requirementsOf, type ContinuousSettings, type FusedRequirement, type Requirement } from '../../config/schema.js';
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
  // `fused` when the step's match is one part of a fused requirement; `continuous` when the session
  // it signs in to stays monitored by the step's stream, with these settings; `settings` the
  // requirement's own settings for the step.
  | { kind: 'step'; step: Step; fused?: FusedRequirement; continuous?: ContinuousSettings; settings?: StepSettings }
  // Every step of a fused requirement has reported its evidence: the engine decides on the sum.
  | { kind: 'decide'; requirement: FusedRequirement }
  | { kind: 'complete' }
  // The account lacks a required step it may set up now.
  | { kind: 'enroll'; step: Step; settings?: StepSettings }
  // The account lacks a step the flow insists on.
  | { kind: 'blocked'; missing: string[] };

type StepSettings = Readonly<Record<string, unknown>>;

const countOf = (r: Exclude<Requirement, FusedRequirement>) => ('step' in r ? 1 : r.count);

interface Flows {
  byName: Map<string, Flow>;
  acr: Record<string, string>;
  defaultFlow: string;
}

/**
 * Decides which flow a sign-in follows (by requested acr, client or default) and which step
 * comes next. Knows nothing about any particular step beyond the registry's interface.
 * The flows can be replaced while the server runs (flows added through the admin API); a
 * replacement is checked first and then swapped in whole.
 */
export class FlowPolicy {
  private current: Flows;

  constructor(
    set: FlowSet,
    private readonly registry: StepRegistry,
  ) {
    this.current = this.build(set);
  }

  private build(set: FlowSet): Flows {
    const problems = flowProblems(set, this.registry);
    if (problems.length) throw new ConfigError(problems);
    const byName = new Map<string, Flow>();
    for (const [name, flowConfig] of Object.entries(set.flows)) {
      const acr = Object.entries(set.acr).find(([, flow]) => flow === name)?.[0];
      byName.set(name, { name, requirements: requirementsOf(flowConfig), acr, enrollAtLogin: !Array.isArray(flowConfig) && flowConfig.enrollAtLogin });
    }
    return { byName, acr: { ...set.acr }, defaultFlow: set.defaultFlow };
  }

  /** Swaps in a new set of flows; throws ConfigError (and keeps the old set) if it is invalid. */
  replace(set: FlowSet): void {
    this.current = this.build(set);
  }

  /** Every step some configured flow can ask for. */
  stepsInUse(): Set<string> {
    return new Set([...this.current.byName.values()].flatMap((f) => f.requirements.flatMap(stepsOf)));
  }

  get acrValues(): string[] {
    return Object.keys(this.current.acr);
  }

  names(): string[] {
    return [...this.current.byName.keys()];
  }

  /** The flow for a request: the first supported requested acr, else the client's, else the default. */
  resolve(requestedAcr: string[], client: ClientMetadata | undefined): Flow {
    const { byName, acr: acrMap, defaultFlow } = this.current;
    for (const acr of requestedAcr) {
      const name = acrMap[acr];
      if (name) return { ...byName.get(name)!, acr };
    }
    const own = typeof client?.tessera_flow === 'string' ? byName.get(client.tessera_flow) : undefined;
    return own ?? byName.get(defaultFlow)!;
  }

  has(name: string): boolean {
    return this.current.byName.has(name);
  }

  /** A named flow, with any extra requirements for this sign-in appended (single steps it already has are not repeated). */
  byName(name: string, extra: Requirement[] = []): Flow {
    const flow = this.current.byName.get(name);
    if (!flow) throw new Error(`unknown flow ${name}`);
    const added = extra.filter((r) => !('step' in r) || !flow.requirements.some((own) => stepsOf(own).includes(r.step)));
    return added.length ? { ...flow, requirements: [...flow.requirements, ...added] } : flow;
  }

  /** The continuous-verification settings the flow asks of this step, if it monitors the session with it. */
  monitoring(flow: Flow, stepId: string): ContinuousSettings | undefined {
    for (const r of flow.requirements) {
      const settings = this.monitoredBy(r, stepId);
      if (settings) return settings;
    }
    return undefined;
  }

  /** The settings when this requirement's monitoring is done by the step's stream (its own step, or the one streaming step of a fused one). */
  private monitoredBy(r: Requirement, stepId: string): ContinuousSettings | undefined {
    if ('anyOf' in r || !r.continuous) return undefined;
    const streams = 'step' in r ? r.step === stepId : r.fuse.includes(stepId) && Boolean(this.registry.get(stepId)?.streams);
    return streams ? r.continuous : undefined;
  }

  /**
   * Whether steps already done (by their amr values) complete the flow of any of these acr values;
   * a step the flow monitors the session with counts only when the session is `monitored` (asked
   * only of flows with such a step).
   */
  async satisfiedBy(acrValues: string[], amr: string[], account: Account | undefined, monitored: () => Promise<boolean> = async () => false): Promise<boolean> {
    const done = this.registry.doneIn(amr);
    let isMonitored: boolean | undefined;
    for (const acr of acrValues) {
      const name = this.current.acr[acr];
      if (!name) continue;
      const flow = this.byName(name);
      const watched = done.filter((id) => this.monitoring(flow, id));
      if (watched.length && isMonitored === undefined) isMonitored = await monitored();
      const counted = watched.length && !isMonitored ? done.filter((id) => !watched.includes(id)) : done;
      if ((await this.next(flow, new Set(counted), account)).kind === 'complete') return true;
    }
    return false;
  }

  /**
   * The first step still needed, given the steps done so far, those of a fused requirement that
   * have reported their evidence in this sign-in (`scored`), and what the account has enrolled.
   * A fused requirement is met when all its steps are done; a part of them done earlier (in the
   * session being stepped up) has no evidence to add, so all of them are asked again.
   */
  async next(flow: Flow, done: Set<string>, account: Account | undefined, scored: ReadonlySet<string> = new Set()): Promise<NextStep> {
    for (const requirement of flow.requirements) {
      if ('fuse' in requirement) {
        if (requirement.fuse.every((id) => done.has(id))) continue;
        const pending = requirement.fuse.filter((id) => !scored.has(id));
        if (pending.length === 0) return { kind: 'decide', requirement };
        const next = await this.firstOpen(flow, pending, pending.length, account);
        return next.kind === 'step' ? { ...next, fused: requirement, continuous: this.monitoredBy(requirement, next.step.id) } : next;
      }
      const ids = stepsOf(requirement);
      const need = countOf(requirement) - ids.filter((id) => done.has(id)).length;
      if (need <= 0) continue;
      const next = await this.firstOpen(flow, ids.filter((i) => !done.has(i)), need, account);
      const settings = 'step' in requirement && requirement.settings ? { settings: requirement.settings } : {};
      if (next.kind === 'step') return { ...next, continuous: this.monitoredBy(requirement, next.step.id), ...settings };
      return next.kind === 'enroll' ? { ...next, ...settings } : next;
    }
    return { kind: 'complete' };
  }

  /** The first of `ids` the account can perform, when at least `need` of them are set up; else their set-up or a refusal. */
  private async firstOpen(flow: Flow, ids: string[], need: number, account: Account | undefined): Promise<NextStep> {
    const open: Step[] = [];
    for (const id of ids) {
      const step = this.registry.require(id);
      if (!account || (await step.isEnrolled(account))) open.push(step);
    }
    if (open.length >= need) return { kind: 'step', step: open[0]! };
    const enrollable = flow.enrollAtLogin ? ids.map((id) => this.registry.require(id)).find((s) => s.enrollment && !open.includes(s)) : undefined;
    return enrollable ? { kind: 'enroll', step: enrollable } : { kind: 'blocked', missing: ids };
  }
}
