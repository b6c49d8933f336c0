import Router from '@koa/router';
import type { Context } from 'koa';
import type { ClientMetadata } from 'oidc-provider';
import type { Account, AccountService } from '../accounts/accounts.js';
import type { Views } from '../http/views.js';
import { readSubmission } from '../http/form-body.js';
import { jsonOutcomes, refusal, showOnce } from '../http/json-outcomes.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import type { AuditLog } from '../security/audit-log.js';
import type { Csrf } from '../security/csrf.js';
import type { RefusedSubmissions, Submitter } from '../security/refused-submissions.js';
import type { StepRegistry } from '../steps/registry.js';
import type { Attempt, Step, StepInput, StepState, UploadLimits } from '../steps/step.js';
import type { FusedRequirement, Requirement } from '../../config/schema.js';
import type { CapturePage } from './capture-page.js';
import type { FlowPolicy } from './flow-policy.js';
import { FUSED_REJECTION, type FusedMatches } from './fused-matches.js';
import { MONITOR_RESULT, readProgress, scoredSteps, withProgress, type Progress } from './progress.js';
import { requestedAcr } from './requested-acr.js';
import type { RiskSignals } from './risk-signals.js';

export interface InteractionDeps {
  // When configured: signals that add `step` to a sign-in after the identifying step.
  risk?: { signals: RiskSignals; step: Step };
  host: ProviderHost;
  views: Views;
  csrf: Csrf;
  accounts: AccountService;
  steps: StepRegistry;
  policy: FlowPolicy;
  audit: AuditLog;
  // Reads step submissions, auditing what is refused before the step sees it.
  refusals: RefusedSubmissions;
  // One-time codes for steps whose input may come from another device (see device-capture.ts).
  capturePage: CapturePage;
  // Decides fused requirements on the evidence their steps report.
  fusion: FusedMatches;
  // Continuous authentication: continuations of devices that delivered a step's input, and whether a session is monitored now.
  monitoring: { forget(continuationId: string): Promise<void>; active(sessionUid: string): Promise<boolean> };
  // Told of every step submission's outcome (metrics).
  onStepOutcome?: (flow: string, step: string, outcome: 'success' | 'failure' | 'throttled') => void;
}

// One page of a sign-in: a step's page or its enrollment page. Device capture codes feed it, and a
// step's set-up binds its per-attempt challenges to it.
type Stage = 'step' | 'enroll';
const pageContext = (uid: string, stage: Stage, stepId: string) => `interaction:${uid}:${stage}:${stepId}`;
// Where a JSON client goes back to when the engine shows another page of the sign-in.
const signInPage = (ctx: Context) => `/interaction/${ctx.params.uid}`;

// Prompt reasons after which earlier steps of the session no longer count.
const FRESH_LOGIN_REASONS = new Set(['no_session', 'max_age', 'login_prompt', 'id_token_hint', 'claims_id_token_sub_value']);

// The sign-in's amr values by step, with those a step just reported instead of its own.
const reportedAmr = (progress: Progress, step: Step, amr: string[] | undefined) => (amr ? { ...progress.amr, [step.id]: amr } : progress.amr);

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in with your Tessera account',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Keep access while you are away (refresh tokens)',
};

type Details = Awaited<ReturnType<ProviderHost['current']['interactionDetails']>>;

/**
 * The interaction engine: asks the flow policy what comes next and dispatches to that step.
 * Nothing here knows how any particular step works.
 */
export function interactionRouter(deps: InteractionDeps): Router {
  const { host, views, csrf, accounts, steps, policy, risk, audit, refusals, capturePage, fusion, monitoring, onStepOutcome } = deps;
  const router = new Router({ prefix: '/interaction' });

  // Loads the interaction bound to this browser's cookie and checks it is the one in the URL.
  async function interactionOf(ctx: Context) {
    const details = await host.current.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) ctx.throw(400, 'This sign-in page is out of date. Return to the application and start again.');
    const clientId = String(details.params.client_id);
    const client = (await host.current.Client.find(clientId))?.metadata() as ClientMetadata | undefined;
    return { details, client, clientName: client?.client_name ?? clientId };
  }

  /**
   * Where this sign-in stands. A new one starts from the browser's existing session when there
   * is one (step-up: only the missing steps are asked), unless the request demands a fresh
   * authentication (no session, max_age passed, prompt=login, another subject).
   */
  async function progressOf(details: Details, client: ClientMetadata | undefined): Promise<Progress> {
    const saved = readProgress(details.result);
    if (saved && policy.has(saved.flow)) return saved;
    const flow = policy.resolve(requestedAcr(details.params).values, client);
    const session = details.session;
    const fresh = details.prompt.reasons.some((r) => FRESH_LOGIN_REASONS.has(r));
    if (fresh || !session?.accountId) return { flow: flow.name, acr: flow.acr, done: [] };
    const shown = steps.amrBySteps(session.amr ?? []);
    const done = [...shown.keys()];
    // A step the flow monitors the session with counts only while the session is monitored: one
    // signed in without the stream is asked again, so that its stream starts. (Asked only of such flows.)
    const watched = done.filter((id) => policy.monitoring(flow, id));
    const unmonitored = watched.length > 0 && Boolean(session.uid) && !(await monitoring.active(session.uid!));
    return { flow: flow.name, acr: flow.acr, accountId: session.accountId, done: unmonitored ? done.filter((id) => !watched.includes(id)) : done, amr: Object.fromEntries(shown) };
  }

  /** An essential acr this server cannot provide ends the request with the protocol's error. */
  function unmet(details: Details): string | undefined {
    const requested = requestedAcr(details.params);
    if (!requested.essential || requested.values.some((v) => policy.acrValues.includes(v))) return undefined;
    return `none of the requested authentication context classes (${requested.values.join(', ')}) is available`;
  }

  async function stateOf(details: Details, progress: Progress): Promise<StepState> {
    const account = progress.accountId ? await accounts.findRecent(progress.accountId) : undefined;
    if (progress.accountId && (!account || account.disabled)) throw Object.assign(new Error('This account can no longer sign in.'), { status: 403, expose: true });
    return { interactionId: details.uid, account, loginHint: typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined };
  }

  /** A posted form with a valid CSRF token; a step's submission (`step`) may be multipart and has its refusals audited. */
  async function postedForm(ctx: Context, step?: { upload?: UploadLimits; who: Submitter }): Promise<StepInput> {
    const input = step ? await refusals.read(ctx, step.who, step.upload) : await readSubmission(ctx);
    if (!csrf.valid(ctx, String(ctx.params.uid), input.fields.csrf)) {
      ctx.throw(403, 'This form has expired or was not sent by this site. Go back, reload the page and try again.');
    }
    return input;
  }

  type Result = Parameters<typeof host.current.interactionResult>[2];

  /**
   * What the provider's interactionResult does, on the interaction this request already loaded:
   * it would load it from the store again first.
   */
  async function record(details: Details, result: Result, merge: boolean): Promise<string> {
    details.result = merge && !('error' in result) ? { ...details.lastSubmission, ...result } : result;
    await details.save(details.exp - Math.floor(Date.now() / 1000));
    return details.returnTo;
  }

  async function finish(ctx: Context, details: Details, result: Result, merge = true) {
    const returnTo = await record(details, result, merge);
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  // Every interaction page carries its uid and a CSRF token bound to it.
  function renderForm(ctx: Context, view: string, data: Record<string, unknown>, status = 200) {
    const uid = String(ctx.params.uid);
    views.render(ctx, view, { uid, csrf: csrf.token(ctx, uid), ...data }, status);
  }

  // What a step's page offers besides its form: giving up, and a device capture code when the step takes one.
  async function pageExtras(ctx: Context, step: Step, stage: Stage) {
    const uid = String(ctx.params.uid);
    return {
      page: signInPage(ctx),
      cancelAction: `/interaction/${uid}/abort`,
      cancelLabel: 'Cancel and return to the application',
      // A device delivering a sign-in step that can stream gets a continuation, in case the flow monitors the session.
      ...(await capturePage.prompt(step, pageContext(uid, stage, step.id), `/interaction/${uid}/${stage}/${step.id}/capture`, stage === 'step' && Boolean(step.streams))),
    };
  }

  async function renderStep(ctx: Context, step: Step, state: StepState, clientName: string, extra: Record<string, unknown> = {}, status = 200) {
    const action = `/interaction/${ctx.params.uid}/step/${step.id}`;
    renderForm(ctx, step.view, { client: clientName, action, ...(await step.prompt(state)), ...(await pageExtras(ctx, step, 'step')), ...extra }, status);
  }

  function renderBlocked(ctx: Context, missing: string[]) {
    const message = `The application requires ${missing.join(' or ')}, which is not set up for your account. Set it up in your account settings or ask your administrator.`;
    ctx.state.message = message;
    renderForm(ctx, 'blocked', { title: 'Sign-in not possible', message }, 403);
  }

  // What the flow asks for next, given this sign-in's progress.
  const nextOf = (progress: Progress, account: Account | undefined) => policy.next(policy.byName(progress.flow, progress.extra), new Set(progress.done), account, scoredSteps(progress));

  const attemptOf = (ctx: Context, clientId: string | undefined): Attempt => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, clientId });

  async function saveProgress(details: Details, progress: Progress) {
    await record(details, withProgress(details.result, progress), false);
  }

  const enrolling = (ctx: Context, step: Step, account: Account, pending: string, settings: StepState['settings']) => ({ account, pending, contextId: pageContext(String(ctx.params.uid), 'enroll', step.id), settings });

  async function renderEnrollment(ctx: Context, step: Step, account: Account, pending: string, settings: StepState['settings'], clientName: string, extra: Record<string, unknown> = {}, status = 200) {
    const prompt = await step.enrollment!.prompt(enrolling(ctx, step, account, pending, settings));
    const action = `/interaction/${ctx.params.uid}/enroll/${step.id}`;
    renderForm(ctx, step.enrollment!.view, { client: clientName, action, ...prompt, ...(await pageExtras(ctx, step, 'enroll')), ...extra }, status);
  }

  // Either shows the next step (or its set-up) or, when the flow is complete, finishes the login prompt.
  // `known` spares a second read of the account a step has just verified.
  async function advance(ctx: Context, details: Details, progress: Progress, clientName: string, known?: StepState): Promise<void> {
    const state = known ?? (await stateOf(details, progress));
    const next = await nextOf(progress, state.account);
    if (next.kind === 'step') return renderStep(ctx, next.step, { ...state, settings: next.settings }, clientName);
    if (next.kind === 'decide') return decideFused(ctx, details, progress, clientName, state, next.requirement, attemptOf(ctx, String(details.params.client_id)));
    if (next.kind === 'blocked') return renderBlocked(ctx, next.missing);
    if (next.kind === 'enroll') {
      const account = state.account!;
      let pending = progress.pending?.[next.step.id];
      if (pending === undefined) {
        pending = await next.step.enrollment!.begin(account);
        await saveProgress(details, { ...progress, pending: { ...progress.pending, [next.step.id]: pending } });
      }
      return renderEnrollment(ctx, next.step, account, pending, next.settings, clientName);
    }
    const amr = [...new Set(progress.done.flatMap((id) => progress.amr?.[id] ?? [steps.require(id).amr]))];
    await risk?.signals.remember(ctx, progress.accountId!);
    const monitor = progress.monitor ? { [MONITOR_RESULT]: progress.monitor } : {};
    await finish(ctx, details, { login: { accountId: progress.accountId!, acr: progress.acr, amr, remember: true }, ...monitor }, false);
  }

  // After a step or a fused decision succeeded: the login completes, or the sign-in goes on to its next page.
  async function proceed(ctx: Context, details: Details, progress: Progress, clientName: string, state: StepState): Promise<void> {
    if ((await nextOf(progress, state.account)).kind === 'complete') return advance(ctx, details, progress, clientName, state);
    await saveProgress(details, progress);
    ctx.status = 303;
    ctx.redirect(`/interaction/${ctx.params.uid}`);
  }

  /**
   * Every step of a fused requirement has reported: accepted, they all count as done (amr lists
   * each); rejected, their evidence is dropped and the first of them is asked again.
   */
  async function decideFused(ctx: Context, details: Details, progress: Progress, clientName: string, state: StepState, requirement: FusedRequirement, attempt: Attempt): Promise<void> {
    const account = state.account!;
    const accepted = await fusion.decide(requirement, progress.scored ?? {}, account, attempt, (id) => steps.require(id).amr);
    const { scored: _decided, ...decided } = progress;
    if (accepted) return proceed(ctx, details, { ...decided, done: [...decided.done, ...requirement.fuse.filter((id) => !decided.done.includes(id))] }, clientName, state);
    // Refused: the streaming device, if any, must deliver again with the retry.
    const { monitor, ...rest } = decided;
    if (monitor) await monitoring.forget(monitor.continuationId);
    await saveProgress(details, rest);
    const again = await nextOf(rest, account);
    const outcome = { ok: false as const, status: 401, message: FUSED_REJECTION };
    return refusal(ctx, outcome, async (): Promise<void> => (again.kind === 'step' ? renderStep(ctx, again.step, state, clientName, { error: outcome.message }, outcome.status) : advance(ctx, details, rest, clientName, state)));
  }

  router.get('/:uid', async (ctx) => {
    const { details, client, clientName } = await interactionOf(ctx);
    if (details.prompt.name === 'login') {
      const problem = unmet(details);
      if (problem) return finish(ctx, details, { error: 'unmet_authentication_requirements', error_description: problem }, false);
      return advance(ctx, details, await progressOf(details, client), clientName);
    }
    if (details.prompt.name === 'consent') {
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const account = await accounts.findById(String(details.session?.accountId));
      return renderForm(ctx, 'consent', {
        title: 'Allow access',
        client: clientName,
        account: account?.username,
        scopes: (missing.missingOIDCScope ?? []).map((s) => SCOPE_TEXT[s] ?? s),
        resources: Object.entries(missing.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({ indicator, scopes: scopes.join(' ') })),
      });
    }
    ctx.throw(400, `unsupported interaction prompt ${details.prompt.name}`);
  });

  /** Runs the risk signals once the user is known; returns the steps to add (audited with the reasons). */
  async function riskSteps(ctx: Context, account: Account, attempt: Attempt) {
    const reasons = await risk!.signals.assess(ctx, account.id);
    if (!reasons.length) return [];
    const added = await risk!.step.isEnrolled(account);
    await audit.record({
      type: 'login.risk',
      outcome: 'success',
      subject: account.id,
      ...attempt,
      details: { reasons, step: risk!.step.id, added, ...(added ? {} : { note: 'step not enrolled for this account' }) },
    });
    return added ? [{ step: risk!.step.id }] : [];
  }

  /**
   * A request with `tessera_reauth=second_factor` (the account console's fresh sign-in before
   * sensitive changes) must include one more of the methods the user has set up besides the one
   * that identified them, so a password (or a passkey) alone cannot remove or replace the others.
   */
  async function secondFactorOf(account: Account, identifiedBy: Step): Promise<Requirement[]> {
    const enrolled = (await steps.enrollmentOf(account, (step) => step.id !== identifiedBy.id)).filter((e) => e.enrolled).map((e) => e.step.id);
    return enrolled.length ? [{ anyOf: enrolled, count: 1 }] : [];
  }

  /** A submission for the login prompt: the form, where the sign-in stands and what comes next. */
  async function submission(ctx: Context, stage: Stage) {
    // The sign-in is looked up (read only) before the body, so that a refused body is audited
    // against it, and a body for a sign-in that is over is not read at all.
    const { details, client, clientName } = await interactionOf(ctx);
    if (details.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const progress = await progressOf(details, client);
    const attempt = attemptOf(ctx, client?.client_id);
    // Steps that take files say how much; everything else is a plain 16 KB form.
    const submitted = steps.get(String(ctx.params.step));
    const form = await postedForm(ctx, { upload: submitted?.upload, who: { step: submitted?.id, subject: progress.accountId, clientId: attempt.clientId } });
    const delivered = await capturePage.addDelivered(submitted, pageContext(details.uid, stage, String(ctx.params.step)), form);
    const state = await stateOf(details, progress);
    const next = await nextOf(progress, state.account);
    return { form, details, clientName, progress, state, next, attempt, delivered };
  }

  router.post('/:uid/step/:step', jsonOutcomes(signInPage), async (ctx) => {
    const { form, details, clientName, progress, state: sharedState, next, attempt, delivered } = await submission(ctx, 'step');
    // Only the step the flow asks for now may be submitted.
    if (next.kind !== 'step' || next.step.id !== ctx.params.step) return advance(ctx, details, progress, clientName);
    const step = next.step;
    // The step also gets its requirement's settings.
    const state = { ...sharedState, settings: next.settings };
    const fused = next.fused;
    // A monitored session needs the device that keeps streaming: a file chosen on the page has none.
    if (next.continuous && !delivered.continuationId) {
      const outcome = { ok: false as const, status: 400, message: 'This application keeps checking your brain signal after you sign in: send the recording from your headset app with the code shown, not as a file.' };
      return refusal(ctx, outcome, () => renderStep(ctx, step, state, clientName, { error: outcome.message }, outcome.status));
    }
    const locked = fused && state.account ? await fusion.locked(state.account, attempt) : undefined;
    if (locked) {
      onStepOutcome?.(progress.flow, step.id, 'throttled');
      return refusal(ctx, locked, () => renderStep(ctx, step, state, clientName, { error: locked.message }, locked.status));
    }
    const outcome = await step.verify(form, state, attempt, fused ? { fused: true } : undefined);
    onStepOutcome?.(progress.flow, step.id, outcome.ok ? 'success' : outcome.status === 429 ? 'throttled' : 'failure');
    if (!outcome.ok) return refusal(ctx, outcome, () => renderStep(ctx, step, state, clientName, { error: outcome.message, ...outcome.keepInput }, outcome.status));
    if (progress.accountId && outcome.account.id !== progress.accountId) ctx.throw(400, 'This step was completed for a different account. Start again.');
    const known = { ...state, account: outcome.account };
    // The session this sign-in makes is monitored by the device's stream (for a fused requirement, once the sum accepts).
    let monitor: Progress['monitor'];
    if (next.continuous && delivered.continuationId) {
      // The running confidence starts from the sign-in probe's calibrated LLR; without one there is nothing to run.
      if (!outcome.evidence) {
        await monitoring.forget(delivered.continuationId);
        const refused = { ok: false as const, status: 409, message: 'Your brain-signal enrollment was made with an older model that cannot keep verifying you. Set it up again in your account settings.' };
        return refusal(ctx, refused, () => renderStep(ctx, step, state, clientName, { error: refused.message }, refused.status));
      }
      monitor = { step: step.id, continuationId: delivered.continuationId, llr: outcome.evidence.llr, settings: next.continuous };
    } else if (delivered.continuationId) {
      // This flow does not monitor the session: the device's continuation leads nowhere.
      await monitoring.forget(delivered.continuationId);
    }
    if (fused) {
      if (!outcome.evidence) throw new Error(`step ${step.id} reported no evidence for a fused requirement`);
      const updated: Progress = { ...progress, scored: { ...progress.scored, [step.id]: outcome.evidence }, ...(monitor ? { monitor } : {}) };
      const after = await nextOf(updated, outcome.account);
      if (after.kind === 'decide') return decideFused(ctx, details, updated, clientName, known, after.requirement, attempt);
      return proceed(ctx, details, updated, clientName, known);
    }
    const updated: Progress = { ...progress, accountId: outcome.account.id, done: [...progress.done, step.id], amr: reportedAmr(progress, step, outcome.amr), ...(monitor ? { monitor } : {}) };
    // Risk signals and a re-authentication's second factor follow the step that told who the user is
    // (an identifying step used as a later factor, such as a passkey after a password, adds nothing).
    if (step.identifies && !progress.accountId) {
      const reauth = details.params.tessera_reauth === 'second_factor' ? await secondFactorOf(outcome.account, step) : [];
      updated.extra = [...(risk ? await riskSteps(ctx, outcome.account, attempt) : []), ...reauth];
    }
    return proceed(ctx, details, updated, clientName, known);
  });

  router.post('/:uid/enroll/:step', jsonOutcomes(signInPage), async (ctx) => {
    const { form, details, clientName, progress, state, next, attempt } = await submission(ctx, 'enroll');
    const pending = progress.pending?.[String(ctx.params.step)];
    if (next.kind !== 'enroll' || next.step.id !== ctx.params.step || pending === undefined || !state.account) return advance(ctx, details, progress, clientName);
    const step = next.step;
    const outcome = await step.enrollment!.confirm(form, enrolling(ctx, step, state.account, pending, next.settings), attempt);
    if (!outcome.ok) return refusal(ctx, outcome, () => renderEnrollment(ctx, step, state.account!, pending, next.settings, clientName, { error: outcome.message }, outcome.status));
    // Confirming with a valid first use counts as performing the step in this sign-in, except for a
    // step that then monitors the session: its stream starts from a verification, asked next.
    const { [step.id]: _confirmed, ...stillPending } = progress.pending ?? {};
    const monitored = policy.monitoring(policy.byName(progress.flow, progress.extra), step.id);
    await saveProgress(details, { ...progress, done: monitored ? progress.done : [...progress.done, step.id], amr: reportedAmr(progress, step, outcome.amr), pending: stillPending });
    if (!outcome.show) {
      ctx.status = 303;
      return ctx.redirect(`/interaction/${ctx.params.uid}`);
    }
    showOnce(ctx, outcome.show, signInPage(ctx), (view, data) => views.render(ctx, view, data));
  });

  // The waiting page polls this (same browser: the interaction cookie) until a device has delivered.
  router.get('/:uid/:stage/:step/capture', async (ctx) => {
    const { details } = await interactionOf(ctx);
    const stage = ctx.params.stage;
    if ((stage !== 'step' && stage !== 'enroll') || !steps.get(String(ctx.params.step))?.deviceCapture) return ctx.throw(404, 'no device capture here');
    await capturePage.answerStatus(ctx, pageContext(details.uid, stage, String(ctx.params.step)));
  });

  router.post('/:uid/consent', async (ctx) => {
    await postedForm(ctx);
    const { details } = await interactionOf(ctx);
    if (details.prompt.name !== 'consent') ctx.throw(400, 'There is nothing to consent to.');
    const provider = host.current;
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: String(details.session?.accountId), clientId: String(details.params.client_id) });
    if (!grant) return ctx.throw(400, 'This authorisation is no longer valid. Return to the application and start again.');
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await finish(ctx, details, { consent: { grantId } });
  });

  router.post('/:uid/abort', async (ctx) => {
    const { fields } = await postedForm(ctx);
    const { details } = await interactionOf(ctx);
    // From the refusal page the RP learns why: its requirements could not be met.
    const result =
      fields.reason === 'unmet'
        ? { error: 'unmet_authentication_requirements', error_description: 'the user has not set up a required authentication method' }
        : { error: 'access_denied', error_description: 'The user cancelled the sign-in.' };
    await finish(ctx, details, result, false);
  });

  return router;
}
