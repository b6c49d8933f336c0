import { readFileSync } from 'node:fs';
import type { Requirement } from '../../config/schema.js';
import { describeIssues, flowSettingsBody } from '../admin/schemas.js';
import { FlowCatalogue, type FlowInput, type FlowView } from '../interaction/flow-catalogue.js';
import { FlowStore } from '../interaction/flow-store.js';
import type { Services } from '../services.js';
import { createSteps } from '../steps/all-steps.js';
import { parse, required, UsageError } from './args.js';
import { print } from './output.js';

const HELP = `tessera flow list
tessera flow get NAME
tessera flow set NAME --require STEP|STEP,STEP[:COUNT]|STEP+STEP@FAR... [--enroll-at-login] [--acr VALUE]...
tessera flow set NAME --file FLOW.json     ({"requirements": [...], "enrollAtLogin": true, "acrValues": [...]})
tessera flow delete NAME

--require password --require totp,face:1 means: password, then any 1 of totp and face.
--require face+neural@1e-4 fuses the face and brain-signal matches: one decision on their summed
calibrated scores, at a false-accept rate of 1e-4.
Flows from the config file are read-only. Running servers pick up changes within seconds.`;

/** The same catalogue the admin API uses, checking against the steps the server offers. */
export async function flowCatalogue(s: Services): Promise<FlowCatalogue> {
  return new FlowCatalogue(s.config, new FlowStore(s.db), await createSteps(s), s.clients, s.log);
}

/** `password` → one step; `totp,face:1` → any 1 of them (the count defaults to 1); `face+neural@1e-4` → fused at that FAR. */
function requirementFrom(flag: string): Requirement {
  const fused = /^([^+@,:]+(?:\+[^+@,:]+)+)@([0-9.eE+-]+)$/.exec(flag.trim());
  if (fused) {
    const far = Number(fused[2]);
    if (!Number.isFinite(far)) throw new UsageError(`--require ${flag}: FAR must be a number, e.g. 1e-4`);
    return { fuse: fused[1]!.split('+').map((id) => id.trim()), far };
  }
  const match = /^([^,:]+(?:,[^,:]+)*)(?::(\d+))?$/.exec(flag.trim());
  if (!match) throw new UsageError(`--require ${flag}: expected STEP, STEP,STEP[:COUNT] or STEP+STEP@FAR`);
  const steps = match[1]!.split(',').map((id) => id.trim());
  if (steps.length === 1 && match[2] === undefined) return { step: steps[0]! };
  return { anyOf: steps, count: Number(match[2] ?? 1) };
}

function readFlowFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--file: cannot read JSON from ${path} (${(err as Error).message})`);
  }
}

/** The flow's settings from a file or from flags, checked with the admin API's request schema. */
function settingsFrom(values: { file?: string; require?: string[]; 'enroll-at-login'?: boolean; acr?: string[] }): FlowInput {
  const fromFlags = Boolean(values.require || values['enroll-at-login'] || values.acr);
  if (values.file && fromFlags) throw new UsageError('use --file or --require/--enroll-at-login/--acr, not both');
  if (!values.file && !values.require?.length) throw new UsageError('missing --require or --file');
  const raw = values.file
    ? readFlowFile(values.file)
    : { requirements: values.require!.map(requirementFrom), enrollAtLogin: values['enroll-at-login'], acrValues: values.acr };
  const parsed = flowSettingsBody.safeParse(raw);
  if (!parsed.success) throw new UsageError(describeIssues(parsed.error, values.file ? 'file' : 'flow'));
  return parsed.data;
}

const describe = (r: Requirement) => ('step' in r ? r.step : 'anyOf' in r ? `${r.count} of ${r.anyOf.join(',')}` : `${r.fuse.join('+')} fused at FAR ${r.far}`);
const rowOf = (f: FlowView) => [f.name, f.source, f.requirements.map(describe).join(' → '), f.enrollAtLogin ? 'yes' : 'no', f.acrValues.join(' ') || '-', f.problems ? `NOT USED: ${f.problems.join('; ')}` : ''];
const HEADER = ['NAME', 'SOURCE', 'REQUIREMENTS', 'ENROLL', 'ACR', ''];

export async function flowCommand(s: Services, [sub, ...args]: string[]): Promise<void> {
  switch (sub) {
    case 'list': {
      const { values } = parse(args, {});
      const flows = await (await flowCatalogue(s)).list();
      return print(Boolean(values.json), flows, () => [HEADER, ...flows.map(rowOf)]);
    }
    case 'get': {
      const { values, positionals } = parse(args, {}, 1);
      const name = required(positionals[0], 'NAME');
      const flow = await (await flowCatalogue(s)).get(name);
      if (!flow) throw new UsageError(`no such flow: ${name}`);
      return print(Boolean(values.json), flow, () => [HEADER, rowOf(flow)]);
    }
    case 'set': {
      const { values, positionals } = parse(
        args,
        { file: { type: 'string' }, require: { type: 'string', multiple: true }, 'enroll-at-login': { type: 'boolean' }, acr: { type: 'string', multiple: true } },
        1,
      );
      const name = required(positionals[0], 'NAME');
      const { created, flow } = await (await flowCatalogue(s)).save(name, settingsFrom(values), { replace: true });
      await s.audit.record({ type: created ? 'admin.flow_created' : 'admin.flow_updated', outcome: 'success', details: { via: 'cli', flow: name, acrValues: flow.acrValues } });
      return print(Boolean(values.json), flow, () => [[`${created ? 'created' : 'updated'} flow ${name}: ${flow.requirements.map(describe).join(' → ')}`]]);
    }
    case 'delete': {
      const { values, positionals } = parse(args, {}, 1);
      const name = required(positionals[0], 'NAME');
      if (!(await (await flowCatalogue(s)).delete(name))) throw new UsageError(`no such flow: ${name}`);
      await s.audit.record({ type: 'admin.flow_deleted', outcome: 'success', details: { via: 'cli', flow: name } });
      return print(Boolean(values.json), { name, deleted: true }, () => [[`deleted flow ${name}`]]);
    }
    default:
      throw new UsageError(sub ? `unknown command: flow ${sub}\n${HELP}` : HELP);
  }
}
