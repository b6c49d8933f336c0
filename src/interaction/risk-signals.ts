import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Context } from 'koa';
import type { Database } from '../db/database.js';

export type RiskSignal = 'new_device' | 'new_network' | 'recent_failures';

const DEVICE_COOKIE = 'tessera.device';
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/** The network an address belongs to, coarsely: IPv4 /24, IPv6 /48. */
export function networkOf(ip: string): string {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIPv4(v4)) return v4.split('.').slice(0, 3).join('.') + '.0/24';
  // Expand "::" so every spelling of one address yields the same prefix.
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/48';
}

/**
 * Simple, explainable risk signals for a sign-in: a device (long-lived cookie) or network never
 * seen for this account, or failed attempts on it recently. Each signal is named, so the reason
 * a step was added can be written to the audit log.
 */
export class RiskSignals {
  constructor(
    private readonly db: Database,
    private readonly key: string,
    private readonly enabled: RiskSignal[],
    private readonly failureWindowSeconds: number,
  ) {}

  private hash(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('hex');
  }

  private device(ctx: Context): string {
    let id = ctx.cookies.get(DEVICE_COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
      id = randomBytes(32).toString('base64url');
      ctx.cookies.set(DEVICE_COOKIE, id, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: ONE_YEAR_MS, overwrite: true });
    }
    return id;
  }

  private contexts(ctx: Context) {
    return { device: this.hash(this.device(ctx)), network: this.hash(networkOf(ctx.ip)) };
  }

  async assess(ctx: Context, accountId: string): Promise<RiskSignal[]> {
    const { device, network } = this.contexts(ctx);
    const known = await this.db('known_contexts').select('kind', 'value_hash', 'last_seen').where({ account_id: accountId });
    const has = (kind: string, hash: string) => known.some((k) => k.kind === kind && k.value_hash === hash);
    const signals: RiskSignal[] = [];
    if (this.enabled.includes('new_device') && !has('device', device)) signals.push('new_device');
    if (this.enabled.includes('new_network') && !has('network', network)) signals.push('new_network');
    if (this.enabled.includes('recent_failures')) {
      // Failures count until the next completed sign-in, for at most the window.
      const lastSignIn = Math.max(0, ...known.map((k) => Number(k.last_seen)));
      const since = Math.max(Date.now() - this.failureWindowSeconds * 1000, lastSignIn);
      const [{ n }] = (await this.db('audit_events').where({ subject: accountId, type: 'login.failed' }).andWhere('at', '>', since).count({ n: '*' })) as [
        { n: number | string },
      ];
      if (Number(n) > 0) signals.push('recent_failures');
    }
    return signals;
  }

  /** Remembers this device and network for the account after a completed sign-in. */
  async remember(ctx: Context, accountId: string): Promise<void> {
    const now = Date.now();
    const { device, network } = this.contexts(ctx);
    for (const [kind, value_hash] of [['device', device], ['network', network]] as const) {
      await this.db('known_contexts')
        .insert({ account_id: accountId, kind, value_hash, first_seen: now, last_seen: now })
        .onConflict(['account_id', 'kind', 'value_hash'])
        .merge({ last_seen: now });
    }
  }
}
