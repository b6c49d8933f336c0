import type { z } from 'zod';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import { AdminHttpError, auditAdmin, notFound, route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

export function enrollmentRoutes(deps: AdminDeps): AdminRoute[] {
  const { accounts, steps, audit } = deps;
  /** The user and the step a removal names (404 for either unknown). */
  const userAndStep = async (id: string, step: string) => {
    const account = await accounts.findById(id);
    if (!account) throw notFound('user');
    const target = steps.get(step);
    if (!target) throw notFound('step');
    return { account, target };
  };
  const attemptOf = (input: { ctx: { ip: string; get(header: string): string } }) => ({ ip: input.ctx.ip, userAgent: input.ctx.get('user-agent') || undefined });
  return [
    route<z.infer<typeof s.userId>>({
      method: 'get',
      path: '/users/{id}/enrollments',
      summary: "List the user's authentication steps and whether each is set up",
      scope: ADMIN_READ,
      params: s.userId,
      responses: { 200: { description: 'one entry per step this server offers', schema: s.enrollmentList } },
      async handle({ params }) {
        const account = await accounts.findById(params.id);
        if (!account) throw notFound('user');
        const enrollments = await Promise.all(
          (await steps.enrollmentOf(account)).map(async ({ step, enrolled }) => {
            const several = step.enrollment?.several;
            return { step: step.id, amr: step.amr, enrolled, removable: Boolean(step.enrollment), ...(several && { credentials: await several.list(account) }) };
          }),
        );
        return { status: 200, body: { userId: account.id, enrollments } };
      },
    }),
    route<z.infer<typeof s.enrollmentParams>>({
      method: 'delete',
      path: '/users/{id}/enrollments/{step}',
      summary: "Remove a user's credential for a step that can be enrolled (e.g. totp, with its recovery codes)",
      scope: ADMIN_WRITE,
      params: s.enrollmentParams,
      responses: { 204: { description: 'removed' } },
      errors: { 409: 'the step is not removable' },
      async handle(input) {
        const { id, step } = input.params;
        const { account, target } = await userAndStep(id, step);
        const { enrollment } = target;
        // The password is replaced (reset credentials), not removed.
        if (!enrollment) {
          const removable = steps.ids().filter((other) => steps.require(other).enrollment);
          throw new AdminHttpError(409, 'not_removable', `the ${step} step cannot be removed (removable steps: ${removable.join(', ')})`);
        }
        if (!(await enrollment.remove(account, attemptOf(input)))) throw notFound('enrollment');
        await auditAdmin(audit, input, { type: 'admin.credential_removed', subject: id, details: { step } });
        return { status: 204 };
      },
    }),
    route<z.infer<typeof s.credentialParams>>({
      method: 'delete',
      path: '/users/{id}/enrollments/{step}/credentials/{credential}',
      summary: "Remove one of a user's credentials for a step that holds several (a passkey, by the id the enrollment list gives)",
      scope: ADMIN_WRITE,
      params: s.credentialParams,
      responses: { 204: { description: 'removed' } },
      errors: { 409: 'the step holds one credential per user' },
      async handle(input) {
        const { id, step, credential } = input.params;
        const { account, target } = await userAndStep(id, step);
        const several = target.enrollment?.several;
        if (!several) throw new AdminHttpError(409, 'not_several', `the ${step} step holds one credential per user: DELETE /users/{id}/enrollments/${step}`);
        if (!(await several.removeOne(account, credential, attemptOf(input)))) throw notFound('credential');
        await auditAdmin(audit, input, { type: 'admin.credential_removed', subject: id, details: { step, credential } });
        return { status: 204 };
      },
    }),
  ];
}
