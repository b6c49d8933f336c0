import type { Context } from 'koa';
import type { Step, StepInput } from '../steps/step.js';
import type { DeviceCapture } from './device-capture.js';

/**
 * The page side of device capture, shared by the sign-in and the account console: each names
 * its own context (a string that identifies one page of one sign-in or set-up) and status URL.
 */
export class CapturePage {
  constructor(
    private readonly capture: DeviceCapture,
    private readonly issuer: () => string,
  ) {}

  /**
   * For a step that takes device input: a fresh one-time code and where the page asks for news.
   * `continuable`: the delivering device also gets a continuation (a sign-in of a monitoring flow).
   */
  async prompt(step: Step, context: string, statusUrl: string, continuable = false): Promise<Record<string, unknown>> {
    if (!step.deviceCapture) return {};
    const { code } = await this.capture.issue(context, step.id, continuable);
    return {
      capture: { code: `${code.slice(0, 4)}-${code.slice(4)}`, minutes: Math.round(this.capture.ttlSeconds / 60), statusUrl, issuer: this.issuer() },
    };
  }

  /**
   * Without a file on the form, what a device delivered for this page is the submission; answers
   * the continuation the device got with it, if any.
   */
  async addDelivered(step: Step | undefined, context: string, input: StepInput): Promise<{ continuationId?: string }> {
    if (!step?.deviceCapture || input.files.length > 0) return {};
    const delivered = await this.capture.take(context);
    if (!delivered) return {};
    input.files.push(delivered.upload);
    return delivered.continuationId ? { continuationId: delivered.continuationId } : {};
  }

  /** What the waiting page polls: whether the device has delivered. */
  async answerStatus(ctx: Context, context: string): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: await this.capture.status(context) };
  }

  /** The page was left (set-up cancelled): its code stops working and any delivery is dropped. */
  revoke(context: string): Promise<void> {
    return this.capture.revoke(context);
  }
}
