/**
 * `/v1/admin/users...`: the reference's user_management_router.py. Who may call each route is in
 * its descriptor (`access` and `description`); see user-admin.ts for the rules behind them.
 */
import { defineRoute, type Route } from '../api/route.js';
import { messageSchema } from '../api/schemas.js';
import type { UserAdminService } from './user-admin.js';
import {
  adminUserListSchema,
  adminUsersQuery,
  grantBody,
  grantUpdateBody,
  passwordBody,
  userCreateBody,
  userDetailSchema,
  userIdParams,
  userProjectParams,
  userProjectsSchema,
  userUpdateBody,
} from './user-schemas.js';

const tags = ['user-management'];

export function userAdminRoutes(users: UserAdminService): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/users',
      tags,
      summary: 'Users, by username, with their projects (`search`; `filters` = JSON {projects, user_type, is_active, platform_role, is_auditor, budgets})',
      description:
        'Who: platform admins and auditors (every user, every project), project admins (every user; only the projects they are a member of are listed). Others get 403.',
      query: adminUsersQuery,
      responses: { 200: adminUserListSchema },
      errors: [400, 403],
      async handler({ user, query }) {
        const { data, total } = await users.list(user, query);
        return { data, pagination: { total, page: query.page, per_page: query.per_page, pages: Math.ceil(total / query.per_page) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/users/:user_id',
      tags,
      summary: 'One user with its projects, project limit and status',
      description:
        'Who: platform admins and auditors; project admins for users of a project they administer (403 "User not found in your projects" otherwise). Others get 403.',
      params: userIdParams,
      responses: { 200: userDetailSchema },
      errors: [403, 404],
      handler: ({ user, params }) => users.detail(user, params.user_id),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/users',
      access: 'admin',
      tags,
      summary: 'Create a user: in the embedded IdP, or in Keycloak (external mode, when its admin API is configured; else 409)',
      description: 'Who: platform admins.',
      body: userCreateBody,
      responses: { 200: userDetailSchema },
      errors: [400, 409, 502],
      handler: ({ user, body }) => users.create(user, body),
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/users/:user_id',
      access: 'admin',
      tags,
      summary: 'Update a user (name, picture, e-mail, user type, admin/auditor roles, project limit; is_active true/false (re)activates)',
      description: 'Who: platform admins.',
      params: userIdParams,
      body: userUpdateBody,
      responses: { 200: userDetailSchema },
      errors: [400, 403, 404, 409],
      handler: ({ user, params, body }) => users.update(user, params.user_id, body, new Set(Object.keys(body))),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/users/:user_id',
      access: 'admin',
      tags,
      summary: 'Deactivate a user: it can no longer log in or call the API (its tokens are refused); memberships are kept',
      description: 'Who: platform admins.',
      params: userIdParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ user, params }) {
        await users.deactivate(user, params.user_id);
        return { message: 'User deactivated successfully' };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/users/:user_id/password',
      access: 'admin',
      tags,
      summary: "Set a user's password (at least 12 characters); the user's sessions end",
      description: 'Who: platform admins.',
      params: userIdParams,
      body: passwordBody,
      responses: { 200: messageSchema },
      errors: [400, 404, 409, 502],
      async handler({ user, params, body }) {
        await users.setPassword(user, params.user_id, body.new_password);
        return { message: 'Password changed successfully' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/users/:user_id/projects',
      access: 'admin-or-auditor',
      tags,
      summary: "A user's project memberships",
      description: 'Who: platform admins and auditors.',
      params: userIdParams,
      responses: { 200: userProjectsSchema },
      errors: [404],
      handler: ({ params }) => users.projectsOf(params.user_id),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/users/:user_id/projects',
      access: 'admin',
      tags,
      summary: 'Give a user access to a project (created when it does not exist)',
      description: 'Who: platform admins.',
      params: userIdParams,
      body: grantBody,
      responses: { 200: messageSchema },
      errors: [403, 404, 409],
      async handler({ user, params, body }) {
        await users.grant(user, params.user_id, body.project_name, body.is_project_admin);
        return { message: 'Project access granted successfully' };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/users/:user_id/projects/:project_name',
      access: 'admin',
      tags,
      summary: "Change a user's project-admin flag in a project",
      description: 'Who: platform admins.',
      params: userProjectParams,
      body: grantUpdateBody,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ user, params, body }) {
        await users.updateGrant(user, params.user_id, params.project_name, body.is_project_admin);
        return { message: 'Project access updated successfully' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/users/:user_id/projects/:project_name',
      access: 'admin',
      tags,
      summary: "Remove a user's access to a project",
      description: 'Who: platform admins.',
      params: userProjectParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ user, params }) {
        await users.revoke(user, params.user_id, params.project_name);
        return { message: 'Project access removed successfully' };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/users/:user_id/projects/:project_name/default',
      access: 'admin',
      tags,
      summary: "Make one of a user's projects its default (the previous default is cleared)",
      description: 'Who: platform admins.',
      params: userProjectParams,
      responses: { 200: messageSchema },
      errors: [404],
      async handler({ user, params }) {
        await users.setDefault(user, params.user_id, params.project_name, true);
        return { message: 'Default project set successfully' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/users/:user_id/projects/:project_name/default',
      access: 'admin',
      tags,
      summary: "Clear a user's default project",
      description: 'Who: platform admins.',
      params: userProjectParams,
      responses: { 200: messageSchema },
      errors: [404],
      async handler({ user, params }) {
        await users.setDefault(user, params.user_id, params.project_name, false);
        return { message: 'Default project cleared successfully' };
      },
    }),
  ];
}
