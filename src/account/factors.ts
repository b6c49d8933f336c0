import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Storage } from '../oidc/adapter.js';
import type { StepRegistry } from '../steps/registry.js';
import type { EnrollOutcome, Step, StepEnrollment } from '../steps/step.js';
import type { AccountConsole } from './console.js';

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

/**
 * Every registered step with whether the account has it; set-up and removal go through each
 * step's own `enrollment` (its page, its checks), so new steps appear here without changes.
 */
export function factorRoutes(router: Router, kit: AccountConsole, steps: StepRegistry, storage: Storage): void {
  const store = storage.storeFor(PENDING_MODEL);

  function enrollable(ctx: Context): { step: Step; enrollment: StepEnrollment } {
    const step = steps.get(String(ctx.params.step));
    if (!step?.enrollment) return ctx.throw(404, 'There is no such sign-in method to set up.');
    return { step, enrollment: step.enrollment };
  }

  async function list(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const { account } = kit.current(ctx);
    const factors = await Promise.all(
      steps.ids().map(async (id) => {
        const step = steps.require(id);
        const enrolled = await step.isEnrolled(account);
        const actions = enrolled ? (step.enrollment?.actions ?? []) : [];
        return {
          id,
          label: step.label,
          enrolled,
          canEnroll: Boolean(step.enrollment) && !enrolled,
          canRemove: Boolean(step.enrollment) && enrolled,
          actions: actions.map((a) => ({ id: a.id, label: a.label })),
        };
      }),
    );
    kit.render(ctx, 'account-factors', { title: 'Sign-in methods', factors, ...extra }, status);
  }

  // A step's result page (e.g. recovery codes) or back to the list.
  function after(ctx: Context, outcome: EnrollOutcome & { ok: true }, notice: 'enrolled' | 'action') {
    if (!outcome.show) return kit.done(ctx, LIST, notice);
    kit.render(ctx, outcome.show.view, { ...outcome.show.data, continueTo: LIST });
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

  async function renderEnrollment(ctx: Context, step: Step, enrollment: StepEnrollment, id: string, pending: Pending, extra: Record<string, unknown> = {}, status = 200) {
    const action = setupPath(step, id);
    const prompt = await enrollment.prompt(kit.current(ctx).account, pending.value);
    kit.render(ctx, enrollment.view, { action, cancelAction: `${action}/cancel`, cancelLabel: 'Cancel', ...prompt, ...extra }, status);
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

  router.post('/factors/:step/setup/:id', kit.signedIn, async (ctx) => {
    const { step, enrollment } = enrollable(ctx);
    const input = await kit.form(ctx, step.upload);
    const { id, pending } = await pendingOf(ctx, step.id);
    const outcome = await enrollment.confirm(input, kit.current(ctx).account, pending.value, kit.attempt(ctx));
    // Capture scripts post with Accept: application/json and follow `next` themselves.
    const json = ctx.accepts('html', 'json') === 'json';
    if (!outcome.ok) {
      if (outcome.retryAfterSeconds) ctx.set('Retry-After', String(outcome.retryAfterSeconds));
      if (!json) return renderEnrollment(ctx, step, enrollment, id, pending, { error: outcome.message }, outcome.status);
      ctx.status = outcome.status;
      ctx.body = { ok: false, status: outcome.status, message: outcome.message };
      return;
    }
    await store.destroy(PENDING_MODEL, id);
    if (json) ctx.body = { ok: true, next: `${LIST}?done=enrolled`, show: outcome.show?.data };
    else after(ctx, outcome, 'enrolled');
  });

  router.post('/factors/:step/setup/:id/cancel', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const { step } = enrollable(ctx);
    const { id } = await pendingOf(ctx, step.id);
    await store.destroy(PENDING_MODEL, id);
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
