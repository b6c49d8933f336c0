import type { z } from 'zod';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import { auditAdmin, notFound, route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

type Id = z.infer<typeof s.userId>;

export function userRoutes(deps: AdminDeps): AdminRoute[] {
  const { accounts, passwordPolicy, audit, storage, announceEnded } = deps;
  // A disabled or deleted user keeps nothing: sessions end (their clients are told), grants and their tokens are revoked.
  const revokeAll = async (id: string) => {
    const { sessions, grants } = await storage.revokeAccount(id);
    await announceEnded(sessions);
    return { sessions: sessions.length, grants };
  };
  const existing = async (id: string) => {
    const account = await accounts.findById(id);
    if (!account) throw notFound('user');
    return account;
  };
  return [
    route<undefined, z.infer<typeof s.userQuery>>({
      method: 'get',
      path: '/users',
      summary: 'List users in username order, a page at a time, optionally by username prefix or disabled state',
      scope: ADMIN_READ,
      query: s.userQuery,
      responses: { 200: { description: 'one page of users', schema: s.userList } },
      async handle({ query }) {
        // The cursor is the last username of the page before, opaque to callers.
        const after = query.cursor === undefined ? undefined : Buffer.from(query.cursor, 'base64url').toString('utf8');
        const { accounts: users, hasMore } = await accounts.page({ after, limit: query.limit, usernamePrefix: query.usernamePrefix, disabled: query.disabled });
        const last = users.at(-1);
        const nextCursor = hasMore && last ? Buffer.from(last.username, 'utf8').toString('base64url') : null;
        return { status: 200, body: { users, nextCursor } };
      },
    }),
    route<undefined, undefined, z.infer<typeof s.newUser>>({
      method: 'post',
      path: '/users',
      summary: 'Create a user',
      scope: ADMIN_WRITE,
      body: s.newUser,
      responses: { 201: { description: 'the new user', schema: s.user } },
      errors: { 400: 'invalid input, or the password is refused by the password policy (too short, leaked, too easy to guess)', 409: 'the username is taken' },
      async handle(input) {
        if (input.body.password !== undefined) await passwordPolicy.check(input.body.password, input.body);
        const user = await accounts.create(input.body);
        await auditAdmin(audit, input, { type: 'admin.user_created', subject: user.id });
        input.ctx.set('Location', `/admin/v1/users/${user.id}`);
        return { status: 201, body: user };
      },
    }),
    route<Id>({
      method: 'get',
      path: '/users/{id}',
      summary: 'Get a user',
      scope: ADMIN_READ,
      params: s.userId,
      responses: { 200: { description: 'the user', schema: s.user } },
      async handle({ params }) {
        return { status: 200, body: await existing(params.id) };
      },
    }),
    route<Id, undefined, z.infer<typeof s.userChanges>>({
      method: 'patch',
      path: '/users/{id}',
      summary: 'Change profile fields or disable/enable a user',
      scope: ADMIN_WRITE,
      params: s.userId,
      body: s.userChanges,
      responses: { 200: { description: 'the updated user', schema: s.user } },
      async handle(input) {
        const user = await accounts.update(input.params.id, input.body);
        if (!user) throw notFound('user');
        const revoked = input.body.disabled === true ? await revokeAll(user.id) : undefined;
        await auditAdmin(audit, input, { type: 'admin.user_updated', subject: user.id, details: { fields: Object.keys(input.body), ...(revoked && { revoked }) } });
        return { status: 200, body: user };
      },
    }),
    route<Id>({
      method: 'delete',
      path: '/users/{id}',
      summary: 'Delete a user and their credentials',
      scope: ADMIN_WRITE,
      params: s.userId,
      responses: { 204: { description: 'deleted' } },
      async handle(input) {
        await existing(input.params.id);
        const revoked = await revokeAll(input.params.id);
        if (!(await accounts.delete(input.params.id))) throw notFound('user');
        await auditAdmin(audit, input, { type: 'admin.user_deleted', subject: input.params.id, details: { revoked } });
        return { status: 204 };
      },
    }),
    route<Id, undefined, z.infer<typeof s.newPassword>>({
      method: 'put',
      path: '/users/{id}/password',
      summary: "Set a user's password",
      scope: ADMIN_WRITE,
      params: s.userId,
      body: s.newPassword,
      responses: { 204: { description: 'password set' } },
      errors: { 400: 'invalid input, or the password is refused by the password policy (too short, leaked, too easy to guess)' },
      async handle(input) {
        const user = await existing(input.params.id);
        await passwordPolicy.check(input.body.password, user);
        await accounts.setPassword(user.id, input.body.password);
        await auditAdmin(audit, input, { type: 'admin.password_set', subject: user.id });
        return { status: 204 };
      },
    }),
  ];
}
