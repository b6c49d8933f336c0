import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { jsonOutcomes, refusal, showOnce } from '../http/json-outcomes.js';
import type { CapturePage } from '../interaction/capture-page.js';
import type { Storage } from '../oidc/adapter.js';
import { epochSeconds } from '../oidc/stores/record-store.js';
import type { StepRegistry } from '../steps/registry.js';
import type { EnrollmentState, EnrollOutcome, Step, StepEnrollment } from '../steps/step.js';
import type { AccountConsole } from './console.js';
import { when } from './sessions.js';

const LIST = '/account/factors';
// Enrollments under way are kept server-side (the step's opaque value may be sealed or large).
const PENDING_MODEL = 'AccountEnrollment';
const PENDING_SECONDS = 900;
const PENDING_ID = /^[A-Za-z0-9_-]{32}$/;

interface Pending {
  accountId: string;
  step: string;
  value: string;
}

// A set-up page's context: device capture codes feed it and the step binds its challenges to it.
const setupContext = (id: string) => `account-setup:${id}`;

/**
 * Every registered step with whether the account has it; set-up and removal go through each
 * step's own `enrollment` (its page, its checks, its uploads or device capture), so new steps
 * appear here without changes.
 */
export function factorRoutes(router: Router, kit: AccountConsole, steps: StepRegistry, storage: Storage, capturePage: CapturePage): void {
  const store = storage.storeFor(PENDING_MODEL);

  function enrollable(ctx: Context): { step: Step; enrollment: StepEnrollment } {
    const step = steps.get(String(ctx.params.step));
    if (!step?.enrollment) return ctx.throw(404, 'There is no such sign-in method to set up.');
    return { step, enrollment: step.enrollment };
  }

  async function list(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = kit.current(ctx);
    const factors = await Promise.all(
      (await steps.enrollmentOf(account)).map(async ({ step, enrolled }) => {
        const several = step.enrollment?.several;
        return {
          id: step.id,
          label: step.label,
          enrolled,
          // A step holding several credentials lists each (removed one by one) and can always add one more.
          canEnroll: Boolean(step.enrollment) && (!enrolled || Boolean(several)),
          canRemove: Boolean(step.enrollment) && enrolled && !several,
          credentials: several && enrolled ? (await several.list(account)).map((c) => ({ ...c, created: when(epochSeconds(c.createdAt)), lastUsed: c.lastUsedAt ? when(epochSeconds(c.lastUsedAt)) : 'never' })) : undefined,
          actions: (enrolled ? (step.enrollment?.actions ?? []) : []).map((a) => ({ id: a.id, label: a.label })),
        };
      }),
    );
    kit.render(ctx, 'account-factors', { title: 'Sign-in methods', factors, ...extra }, status);
  }

  // A step's result page (e.g. recovery codes) or back to the list.
  function after(ctx: Context, outcome: EnrollOutcome & { ok: true }, notice: 'enrolled' | 'action') {
    if (!outcome.show) return kit.done(ctx, LIST, notice);
    showOnce(ctx, outcome.show, LIST, (view, data) => kit.render(ctx, view, data));
  }

  async function pendingOf(ctx: Context, stepId: string): Promise<{ id: string; pending: Pending }> {
    const id = String(ctx.params.id);
    const stored = PENDING_ID.test(id) ? ((await store.find(PENDING_MODEL, id)) as unknown as Pending | undefined) : undefined;
    if (!stored || stored.accountId !== kit.current(ctx).account.id || stored.step !== stepId) {
      return ctx.throw(404, 'This set-up has expired. Go back to your sign-in methods and start again.');
    }
    return { id, pending: stored };
  }

  // The set-up page's own URL, which its form posts back to (a capture script may also reload it).
  const setupPath = (step: Step, id: string) => `${LIST}/${step.id}/setup/${id}`;
  const enrolling = (ctx: Context, id: string, pending: Pending): EnrollmentState => ({ account: kit.current(ctx).account, pending: pending.value, contextId: setupContext(id) });

  async function renderEnrollment(ctx: Context, step: Step, enrollment: StepEnrollment, id: string, pending: Pending, extra: Record<string, unknown> = {}, status = 200) {
    const action = setupPath(step, id);
    const prompt = await enrollment.prompt(enrolling(ctx, id, pending));
    const capture = await capturePage.prompt(step, setupContext(id), `${action}/capture`);
    kit.render(ctx, enrollment.view, { action, page: action, cancelAction: `${action}/cancel`, cancelLabel: 'Cancel', ...prompt, ...capture, ...extra }, status);
  }

  router.get('/factors', kit.signedIn, (ctx) => list(ctx));

  router.post('/factors/:step/enroll', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const { step, enrollment } = enrollable(ctx);
    if (!kit.fresh(ctx, LIST)) return;
    const { account } = kit.current(ctx);
    const id = randomBytes(24).toString('base64url');
    const pending: Pending = { accountId: account.id, step: step.id, value: await enrollment.begin(account) };
    await store.upsert(PENDING_MODEL, id, { ...pending }, PENDING_SECONDS);
    ctx.status = 303;
    ctx.redirect(setupPath(step, id));
  });

  router.get('/factors/:step/setup/:id', kit.signedIn, async (ctx) => {
    const { step, enrollment } = enrollable(ctx);
    const { id, pending } = await pendingOf(ctx, step.id);
    await renderEnrollment(ctx, step, enrollment, id, pending);
  });

  // Capture scripts post with Accept: application/json and follow `next` themselves.
  const setupPage = (ctx: Context) => `${LIST}/${ctx.params.step}/setup/${ctx.params.id}`;
  router.post('/factors/:step/setup/:id', jsonOutcomes(setupPage), kit.signedIn, async (ctx) => {
    const { step, enrollment } = enrollable(ctx);
    const input = await kit.form(ctx, step);
    const { id, pending } = await pendingOf(ctx, step.id);
    await capturePage.addDelivered(step, setupContext(id), input);
    const outcome = await enrollment.confirm(input, enrolling(ctx, id, pending), kit.attempt(ctx));
    if (!outcome.ok) return refusal(ctx, outcome, () => renderEnrollment(ctx, step, enrollment, id, pending, { error: outcome.message }, outcome.status));
    await store.destroy(PENDING_MODEL, id);
    after(ctx, outcome, 'enrolled');
  });

  // The waiting page polls this (same browser: the console cookie) until a device has delivered.
  router.get('/factors/:step/setup/:id/capture', kit.signedIn, async (ctx) => {
    const { step } = enrollable(ctx);
    if (!step.deviceCapture) return ctx.throw(404, 'This sign-in method takes no device capture.');
    const { id } = await pendingOf(ctx, step.id);
    await capturePage.answerStatus(ctx, setupContext(id));
  });

  router.post('/factors/:step/setup/:id/cancel', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const { step } = enrollable(ctx);
    const { id } = await pendingOf(ctx, step.id);
    await store.destroy(PENDING_MODEL, id);
    await capturePage.revoke(setupContext(id));
    ctx.status = 303;
    ctx.redirect(LIST);
  });

  router.post('/factors/:step/remove', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const { step, enrollment } = enrollable(ctx);
    if (!kit.fresh(ctx, LIST)) return;
    if (!(await enrollment.remove(kit.current(ctx).account, kit.attempt(ctx)))) {
      return list(ctx, { error: `${step.label} is not set up for your account.` }, 404);
    }
    kit.done(ctx, LIST, 'removed');
  });

  function severalOf(ctx: Context) {
    const { step, enrollment } = enrollable(ctx);
    if (!enrollment.several) return ctx.throw(404, `${step.label} has no separate credentials.`);
    return { step, several: enrollment.several, id: String(ctx.params.id) };
  }

  router.post('/factors/:step/credentials/:id/rename', kit.signedIn, async (ctx) => {
    const { fields } = await kit.form(ctx);
    const { several, id } = severalOf(ctx);
    const outcome = await several.rename(kit.current(ctx).account, id, fields.name ?? '', kit.attempt(ctx));
    if (!outcome.ok) return list(ctx, { error: outcome.message }, outcome.status);
    kit.done(ctx, LIST, 'renamed');
  });

  router.post('/factors/:step/credentials/:id/remove', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const { step, several, id } = severalOf(ctx);
    if (!kit.fresh(ctx, LIST)) return;
    if (!(await several.removeOne(kit.current(ctx).account, id, kit.attempt(ctx)))) return list(ctx, { error: `There is no such ${step.label.toLowerCase()} on your account.` }, 404);
    kit.done(ctx, LIST, 'removed');
  });

  router.post('/factors/:step/actions/:action', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const { enrollment } = enrollable(ctx);
    const action = enrollment.actions?.find((a) => a.id === ctx.params.action);
    if (!action) return ctx.throw(404, 'There is no such action for this sign-in method.');
    if (!kit.fresh(ctx, LIST)) return;
    const outcome = await action.run(kit.current(ctx).account, kit.attempt(ctx));
    if (!outcome.ok) return list(ctx, { error: outcome.message }, outcome.status);
    after(ctx, outcome, 'action');
  });
}
