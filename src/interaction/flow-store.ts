import type { Requirement } from '../../config/schema.js';
import { InputError } from '../accounts/input-error.js';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';

/** A flow as the admin API or the CLI defined it. */
export interface FlowDefinition {
  name: string;
  requirements: Requirement[];
  enrollAtLogin: boolean;
  acrValues: string[];
}

export interface StoredFlow extends FlowDefinition {
  createdAt: number;
  updatedAt: number;
}

const isUniqueViolation = (err: unknown) => /unique|duplicate/i.test((err as Error).message);

/** Admin-defined flows in SQL (`flows`, `flow_acr_values`). Validation is the catalogue's job. */
export class FlowStore {
  constructor(private readonly db: Database) {}

  async list(): Promise<StoredFlow[]> {
    const [rows, acrRows] = await Promise.all([
      this.db('flows').select('*').orderBy('name'),
      this.db('flow_acr_values').select('acr', 'flow_name').orderBy('acr'),
    ]);
    return rows.map((r) => ({
      name: String(r.name),
      requirements: JSON.parse(String(r.requirements)) as Requirement[],
      enrollAtLogin: Boolean(r.enroll_at_login),
      acrValues: acrRows.filter((a) => a.flow_name === r.name).map((a) => String(a.acr)),
      createdAt: toNumber(r.created_at)!,
      updatedAt: toNumber(r.updated_at)!,
    }));
  }

  /**
   * Creates the flow, or replaces it (and its acr values) when `replace` is set; answers
   * whether it was created. A name taken on create, or an acr value another flow holds, is a
   * conflict.
   */
  async save(flow: FlowDefinition, opts: { replace: boolean }): Promise<{ created: boolean }> {
    const now = Date.now();
    const row = { requirements: JSON.stringify(flow.requirements), enroll_at_login: flow.enrollAtLogin, updated_at: now };
    try {
      return await this.db.transaction(async (trx) => {
        const updated = opts.replace ? await trx('flows').where({ name: flow.name }).update(row) : 0;
        if (!updated) await trx('flows').insert({ name: flow.name, ...row, created_at: now });
        await trx('flow_acr_values').where({ flow_name: flow.name }).delete();
        if (flow.acrValues.length) await trx('flow_acr_values').insert(flow.acrValues.map((acr) => ({ acr, flow_name: flow.name })));
        return { created: !updated };
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Another process got there first: the name (on create) or one of the acr values.
      const taken = await this.db('flow_acr_values').whereIn('acr', flow.acrValues).whereNot({ flow_name: flow.name }).first();
      throw new InputError(taken ? `acr value ${taken.acr} is already mapped to flow ${taken.flow_name}` : `flow ${flow.name} already exists`, 'conflict');
    }
  }

  async delete(name: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      await trx('flow_acr_values').where({ flow_name: name }).delete();
      return (await trx('flows').where({ name }).delete()) === 1;
    });
  }
}
