import type { ClientMetadata } from 'oidc-provider';
import { flowProblems, type FlowSet, type StepLookup } from '../../config/flows.js';
import { requirementsOf, type Requirement } from '../../config/schema.js';
import type { ClientService } from '../accounts/clients.js';
import { InputError } from '../accounts/input-error.js';
import type { Logger } from '../log.js';
import type { FlowPolicy } from './flow-policy.js';
import type { FlowDefinition, FlowStore, StoredFlow } from './flow-store.js';

/** A flow as the admin API and the CLI show it. */
export interface FlowView {
  name: string;
  // config: from the config file, read-only through the API; admin: stored in the database.
  source: 'config' | 'admin';
  requirements: Requirement[];
  enrollAtLogin: boolean;
  acrValues: string[];
  createdAt?: number;
  updatedAt?: number;
  // Set on a stored flow that is not in use, and why (e.g. the config file now defines its name).
  problems?: string[];
}

export interface FlowInput {
  requirements: Requirement[];
  enrollAtLogin?: boolean;
  acrValues?: string[];
}

export class FlowError extends InputError {
  override name = 'FlowError';
}

const FLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const copy = (set: FlowSet): FlowSet => ({ flows: { ...set.flows }, acr: { ...set.acr }, defaultFlow: set.defaultFlow });

function withFlow(set: FlowSet, flow: FlowDefinition): FlowSet {
  const next = copy(set);
  next.flows[flow.name] = { requirements: flow.requirements, enrollAtLogin: flow.enrollAtLogin };
  for (const acr of flow.acrValues) next.acr[acr] = flow.name;
  return next;
}

/**
 * The flows the server runs with, and the one place that changes them (admin API and CLI).
 * Precedence: the config file's flows, acr values and defaultFlow come first and are
 * read-only here; stored flows are added after them, each only if it fits (a stored flow
 * whose name or acr value the config file has since taken, or that names a step this server
 * lacks, is listed with its problems and not used). Every change is checked exactly as the
 * config loader and the flow policy check the config file.
 */
export class FlowCatalogue {
  private fingerprint = '';
  private syncing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: FlowSet,
    private readonly store: FlowStore,
    private readonly steps: StepLookup,
    private readonly clients: ClientService,
    private readonly log: Logger,
  ) {}

  private clashes(set: FlowSet, flow: FlowDefinition): string[] {
    if (this.config.flows[flow.name]) return [`flow ${flow.name} is defined in the configuration file, which takes precedence`];
    return flow.acrValues.filter((acr) => set.acr[acr]).map((acr) => `acr value ${acr} is already mapped to flow ${set.acr[acr]}`);
  }

  private problemsAdding(set: FlowSet, flow: FlowDefinition): string[] {
    return [...this.clashes(set, flow), ...flowProblems(withFlow(set, flow), this.steps)];
  }

  /** The live set (config first, then the stored flows that fit), and the stored flows left out. */
  private async assemble(except?: string): Promise<{ set: FlowSet; stored: StoredFlow[]; ignored: Map<string, string[]> }> {
    const stored = await this.store.list();
    let set = copy(this.config);
    const ignored = new Map<string, string[]>();
    for (const flow of stored) {
      if (flow.name === except) continue;
      const problems = this.problemsAdding(set, flow);
      if (problems.length) ignored.set(flow.name, problems);
      else set = withFlow(set, flow);
    }
    return { set, stored, ignored };
  }

  private configView(name: string): FlowView {
    const flow = this.config.flows[name]!;
    return {
      name,
      source: 'config',
      requirements: requirementsOf(flow),
      enrollAtLogin: !Array.isArray(flow) && flow.enrollAtLogin,
      acrValues: Object.entries(this.config.acr).filter(([, f]) => f === name).map(([acr]) => acr),
    };
  }

  private storedView(flow: StoredFlow, ignored: Map<string, string[]>): FlowView {
    const problems = ignored.get(flow.name);
    return { ...flow, source: 'admin', ...(problems ? { problems } : {}) };
  }

  async list(): Promise<FlowView[]> {
    const { stored, ignored } = await this.assemble();
    return [...Object.keys(this.config.flows).map((name) => this.configView(name)), ...stored.map((f) => this.storedView(f, ignored))];
  }

  async get(name: string): Promise<FlowView | undefined> {
    // Config flows come first: a stored flow the config file shadows is never the answer.
    return (await this.list()).find((f) => f.name === name);
  }

  /** Whether sign-ins can use a flow of this name now (e.g. as a client's default flow). */
  async exists(name: string): Promise<boolean> {
    return name in (await this.assemble()).set.flows;
  }

  private readOnly(name: string): FlowError {
    return new FlowError(`flow ${name} is defined in the configuration file and is read-only; change it there`, 'conflict');
  }

  /** Creates a flow, or replaces one when `replace` is set; answers whether it was created. */
  async save(name: string, input: FlowInput, opts: { replace: boolean }): Promise<{ created: boolean; flow: FlowView }> {
    if (!FLOW_NAME.test(name)) throw new FlowError('a flow name is 1–64 characters of A-Z a-z 0-9 . _ - (not starting with . _ -)');
    if (this.config.flows[name]) throw this.readOnly(name);
    const flow: FlowDefinition = { name, requirements: input.requirements, enrollAtLogin: input.enrollAtLogin ?? false, acrValues: [...new Set(input.acrValues ?? [])] };
    const { set, stored } = await this.assemble(name);
    if (!opts.replace && stored.some((f) => f.name === name)) throw new FlowError(`flow ${name} already exists`, 'conflict');
    const clashes = this.clashes(set, flow);
    if (clashes.length) throw new FlowError(clashes.join('; '), 'conflict');
    const problems = flowProblems(withFlow(set, flow), this.steps);
    if (problems.length) throw new FlowError(problems.join('; '));
    const { created } = await this.store.save(flow, opts);
    return { created, flow: (await this.get(name))! };
  }

  /**
   * Deletes a stored flow; undefined when there is none. A flow still in use cannot go: one
   * that acr values map to (requests naming them would fail) or that a client uses as its
   * default flow (the client would stop loading). Config-file flows, the default flow among
   * them, are read-only.
   */
  async delete(name: string): Promise<boolean> {
    if (this.config.flows[name]) throw this.readOnly(name);
    const { stored, ignored } = await this.assemble();
    const flow = stored.find((f) => f.name === name);
    if (!flow) return false;
    // A stored flow left out of use (see list) serves no acr value: it may go.
    if (flow.acrValues.length && !ignored.has(name)) {
      throw new FlowError(`flow ${name} is mapped to acr value ${flow.acrValues.join(', ')}; remove the mapping first (save it without acrValues)`, 'conflict');
    }
    const users = (await this.clients.list()).filter((c) => (c.metadata as ClientMetadata).tessera_flow === name).map((c) => c.clientId);
    if (users.length) throw new FlowError(`flow ${name} is the default flow of client ${users.join(', ')}; give them another flow first`, 'conflict');
    return this.store.delete(name);
  }

  /**
   * Brings the policy up to date with the database; answers whether anything changed. Every
   * process calls this on a timer, and at once after its own changes.
   */
  sync(policy: FlowPolicy): Promise<boolean> {
    // One at a time: a slow read from before a change must not overwrite a newer one.
    const run = this.syncing.then(() => this.syncNow(policy));
    this.syncing = run.catch(() => undefined);
    return run;
  }

  private async syncNow(policy: FlowPolicy): Promise<boolean> {
    const { set, ignored } = await this.assemble();
    const fingerprint = JSON.stringify(set);
    if (fingerprint === this.fingerprint) return false;
    policy.replace(set);
    this.fingerprint = fingerprint;
    for (const [name, problems] of ignored) this.log.warn({ flow: name, problems }, 'stored flow not used');
    return true;
  }
}
