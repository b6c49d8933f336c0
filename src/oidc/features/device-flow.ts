import { createHash } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Configuration, ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../../config/schema.js';
import type { Views } from '../../http/views.js';
import type { AuditEvent, AuditLog } from '../../security/audit-log.js';
import { MissLimiter } from '../../security/miss-limiter.js';
import type { RateCounter } from '../../security/rate-counter.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// oidc-provider's default route of the user-code page (GET shows the form, POST checks a code).
const CODE_PAGE_PATH = '/device';

// Code entry is a credential check. Per source address: wrong, expired or used codes and forms
// without a valid xsrf field, in a window; a locked address is refused even a right code.
const WINDOW_SECONDS = 600;
const MAX_MISSES_PER_IP = 10;
// Per device authorization: how often its code may be looked up (the confirmation page), from any address.
const MAX_LOOKUPS_PER_CODE = 5;

type DeviceFlowFeature = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;

// What the confirmation page shows of the device's request.
type DeviceInfo = { ip?: string; userAgent?: string };

/** What a refused code entry says and how it counts. */
interface Refusal {
  status: number;
  message: string;
  // Audit reason when it counts as a wrong guess; absent for what is no guess (an empty form, the user's own cancel).
  miss?: string;
}

const START_AGAIN = 'Start again on your device to get a new code.';

function refusalOf(err: Error, out: ErrorOut | undefined): Refusal {
  switch (err.name) {
    case 'NotFoundError':
      return { status: 404, message: 'That code is not valid. Check it on your device and try again.', miss: 'not_found' };
    case 'ExpiredError':
      return { status: 410, message: `That code has expired. ${START_AGAIN}`, miss: 'expired' };
    case 'AlreadyUsedError':
      return { status: 410, message: `That code has already been used. ${START_AGAIN}`, miss: 'already_used' };
    case 'NoCodeError':
      return { status: 400, message: 'Enter the code shown on your device.' };
    default:
      // oidc-provider's xsrf check: the form was not this browser's page.
      if (out?.error === 'invalid_request' && /xsrf|form details/.test(out.error_description ?? '')) {
        return { status: 400, message: 'This form has expired or was not sent by this site. Enter the code again.', miss: 'csrf' };
      }
      return { status: (err as { statusCode?: number }).statusCode ?? 400, message: `The sign-in could not be completed${out?.error ? ` (${out.error})` : ''}. ${START_AGAIN}` };
  }
}

// Rate-counter keys name a device code by a digest, never by the bearer value itself.
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

export interface DeviceFlowDeps {
  config: Config;
  views: Views;
  audit: AuditLog;
  counter: RateCounter;
}

/**
 * The device authorization grant (RFC 8628), configured in oidc-provider: Tessera's pages for the
 * user code, the confirmation and the end; limits and audit events on code entry; and what
 * oidc-provider 9 leaves out, the polling interval (told to the device; faster polls get slow_down).
 * After the confirmation the device's request goes through the interaction engine like any sign-in.
 */
export class DeviceFlow {
  private readonly misses: MissLimiter;

  constructor(private readonly deps: DeviceFlowDeps) {
    this.misses = new MissLimiter(deps.counter, 'device', MAX_MISSES_PER_IP, WINDOW_SECONDS);
  }

  get enabled(): boolean {
    return this.deps.config.deviceFlow;
  }

  feature(): DeviceFlowFeature {
    return {
      enabled: this.enabled,
      // 20 consonants, 8 of them: about 34.6 bits, typed on a phone without ambiguous characters.
      charset: 'base-20',
      mask: '****-****',
      deviceInfo: (ctx): DeviceInfo => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined }),
      userCodeInputSource: (ctx, _form, out, err) => this.codePage(ctx, out, err),
      userCodeConfirmSource: (ctx, form, client, deviceInfo, userCode) => this.confirmPage(ctx, form, client.clientName ?? client.clientId, deviceInfo as DeviceInfo, userCode),
      successSource: (ctx) => this.donePage(ctx),
    };
  }

  /** The provider middleware: code entry refused to a locked address, and the polling interval. */
  install(provider: Provider): void {
    if (!this.enabled) return;
    provider.use(async (koa, next) => {
      const ctx = koa as KoaContextWithOIDC;
      if (ctx.path === CODE_PAGE_PATH) {
        const wait = await this.misses.retryAfter(ctx.ip);
        if (wait) return this.limitedPage(ctx, wait);
      }
      await next();
      const { oidc } = ctx;
      if (oidc?.route === 'device_authorization' && ctx.status === 200) Object.assign(ctx.body as object, { interval: this.deps.config.devicePollInterval });
      if (oidc?.route === 'token') await this.pacePoll(ctx);
    });
  }

  /**
   * RFC 8628 §3.5: a device polling again within the interval of its last answered poll is told
   * slow_down instead of authorization_pending (nothing else differs: a pending poll changes
   * nothing). Refused polls do not move the window, so a device that backs off gets through.
   */
  private async pacePoll(ctx: KoaContextWithOIDC): Promise<void> {
    const body = ctx.body as { error?: string } | undefined;
    const deviceCode = ctx.oidc.params?.device_code;
    if (ctx.oidc.params?.grant_type !== DEVICE_CODE_GRANT || body?.error !== 'authorization_pending' || typeof deviceCode !== 'string') return;
    const { count } = await this.deps.counter.hit(`device:poll:${digest(deviceCode)}`, this.deps.config.devicePollInterval);
    if (count > 1) ctx.body = { error: 'slow_down', error_description: `poll at most every ${this.deps.config.devicePollInterval} seconds` };
  }

  private render(ctx: KoaContextWithOIDC, view: string, data: Record<string, unknown>, status = 200): void {
    this.deps.views.render(ctx, view, data, status);
  }

  private event(ctx: KoaContextWithOIDC, event: Omit<AuditEvent, 'ip' | 'userAgent'>): Promise<void> {
    return this.deps.audit.record({ ...event, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
  }

  private limitedPage(ctx: KoaContextWithOIDC, retryAfterSeconds: number): void {
    ctx.set('Retry-After', String(retryAfterSeconds));
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    this.render(ctx, 'device-code', { title: 'Connect a device', error: `Too many attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.` }, 429);
  }

  /** The user-code form, first or again after a refused code (then audited and counted against the address). */
  private async codePage(ctx: KoaContextWithOIDC, out: ErrorOut | undefined, err: Error | undefined): Promise<void> {
    const data = { title: 'Connect a device', action: ctx.oidc.urlFor('code_verification'), xsrf: (ctx.oidc.session?.state as { secret?: string } | undefined)?.secret };
    if (!err) return this.render(ctx, 'device-code', data);
    const entered = (err as { userCode?: string }).userCode;
    if (err.name === 'AbortedError') {
      const code = ctx.oidc.entities.DeviceCode;
      await this.event(ctx, { type: 'device.denied', outcome: 'failure', subject: ctx.oidc.session?.accountId, clientId: code?.clientId, details: { reason: 'cancelled' } });
      return this.render(ctx, 'device-code', { ...data, notice: 'Cancelled: the device was not signed in. You can enter another code.' });
    }
    const refusal = refusalOf(err, out);
    if (refusal.miss) {
      await this.misses.miss(ctx.ip);
      await this.event(ctx, { type: 'device.code_rejected', outcome: 'failure', details: { reason: refusal.miss } });
      const wait = await this.misses.retryAfter(ctx.ip);
      if (wait) {
        await this.event(ctx, { type: 'device.locked_out', outcome: 'failure', details: { scope: 'ip', max_misses: MAX_MISSES_PER_IP, window_seconds: WINDOW_SECONDS } });
        return this.limitedPage(ctx, wait);
      }
    }
    // oidc-provider's session typings leave out these two flags.
    const session = ctx.oidc.session as unknown as { new?: boolean; touched: boolean };
    if (refusal.miss === 'csrf' && session.new) {
      // A post from no page of ours (no session): store nothing for it (oidc-provider would try to
      // keep the fresh form secret in a session it never created, and fail), and offer the real page.
      session.touched = false;
      return this.render(ctx, 'device-code', { title: data.title, error: refusal.message, restart: data.action }, refusal.status);
    }
    this.render(ctx, 'device-code', { ...data, error: refusal.message, code: refusal.miss === 'csrf' ? undefined : entered }, refusal.status);
  }

  /** The device's client and origin, for the user to confirm or cancel; a code looked up too often is refused. */
  private async confirmPage(ctx: KoaContextWithOIDC, form: string, client: string, device: DeviceInfo, userCode: string): Promise<void> {
    const code = ctx.oidc.entities.DeviceCode!;
    const { count, resetAt } = await this.deps.counter.hit(`device:lookup:${digest(code.jti)}`, WINDOW_SECONDS);
    if (count > MAX_LOOKUPS_PER_CODE) {
      if (count === MAX_LOOKUPS_PER_CODE + 1) {
        await this.event(ctx, { type: 'device.locked_out', outcome: 'failure', clientId: code.clientId, details: { scope: 'code', max_lookups: MAX_LOOKUPS_PER_CODE, window_seconds: WINDOW_SECONDS } });
      }
      return this.limitedPage(ctx, Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
    }
    this.render(ctx, 'device-confirm', { title: 'Sign in this device?', form, client, device, userCode });
  }

  private async donePage(ctx: KoaContextWithOIDC): Promise<void> {
    const code = ctx.oidc.entities.DeviceCode;
    const device = (code?.deviceInfo ?? {}) as DeviceInfo;
    await this.event(ctx, {
      type: 'device.authorized',
      outcome: 'success',
      subject: ctx.oidc.session?.accountId,
      clientId: ctx.oidc.client?.clientId,
      details: { device_ip: device.ip, device_user_agent: device.userAgent, acr: code?.acr, amr: code?.amr },
    });
    this.render(ctx, 'device-done', { title: 'Device signed in', client: ctx.oidc.client?.clientName });
  }
}
