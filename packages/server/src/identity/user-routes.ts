/** `GET /v1/user` ("me"), `GET /v1/user/data`, and the Python SDK's `POST /v1/local-auth/login`. */
import { z } from 'zod';
import type { AuthUser } from '../api/auth.js';
import { defineRoute, type Route } from '../api/route.js';
import { ApiError, tooManyRequests, unauthorized } from '../api/errors.js';
import type { Config } from '../config/config.js';
import type { AuditLog } from '../audit/audit.js';
import type { IdentityRuntime } from './runtime.js';
import { BOOTSTRAP_CLIENT } from './bootstrap.js';
import { OAuthError } from './tokens.js';
import { issuerFor } from './oidc-routes.js';

export const userResponseSchema = z
  .object({
    user_id: z.string(),
    name: z.string(),
    username: z.string(),
    email: z.string(),
    roles: z.array(z.string()),
    projects: z.array(z.object({ name: z.string(), display_name: z.string().nullable(), is_project_admin: z.boolean() })),
    project_limit: z.number().nullable(),
    picture: z.string(),
    knowledge_bases: z.array(z.string()),
    user_type: z.string(),
    applications: z.array(z.string()),
    applications_admin: z.array(z.string()),
    is_admin: z.boolean(),
    is_maintainer: z.boolean(),
  })
  .meta({ id: 'User' });

export function userResponse(u: AuthUser): z.infer<typeof userResponseSchema> {
  const names = [...new Set([...u.projects, ...u.adminProjects])];
  return {
    user_id: u.id,
    name: u.name,
    username: u.username,
    email: u.email,
    roles: u.roles,
    projects: names.map((name) => ({ name, display_name: null, is_project_admin: u.adminProjects.includes(name) })),
    project_limit: null,
    picture: '',
    knowledge_bases: [],
    user_type: u.userType,
    applications: u.projects,
    applications_admin: u.adminProjects,
    is_admin: u.isAdmin,
    is_maintainer: false,
  };
}

const loginBody = z.object({
  email: z.string().min(1).describe('E-mail address or username'),
  password: z.string().min(1),
});

export function userRoutes(config: Config, rt: IdentityRuntime, audit?: AuditLog): Route[] {
  const tags = ['user'];
  const me = (path: string) =>
    defineRoute({
      method: 'GET',
      path,
      tags,
      summary: 'The authenticated user',
      responses: { 200: userResponseSchema },
      handler: ({ user }) => userResponse(user),
    });
  return [
    me('/user'),
    me('/profile'),
    defineRoute({
      method: 'GET',
      path: '/user/data',
      tags,
      summary: 'UI preferences of the authenticated user',
      responses: { 200: z.object({ user_id: z.string(), sidebar_view: z.string().nullable(), stt_support: z.boolean() }) },
      handler: ({ user }) => ({ user_id: user.id, sidebar_view: null, stt_support: false }),
    }),
    defineRoute({
      method: 'POST',
      path: '/local-auth/login',
      access: 'public',
      tags,
      summary: 'Log in with e-mail (or username) and password; returns an access token of the embedded IdP',
      body: loginBody,
      responses: { 200: z.object({ access_token: z.string(), token_type: z.string(), expires_in: z.number(), user: userResponseSchema }) },
      errors: [401, 404, 429],
      async handler({ body, req }) {
        if (!rt.embedded) {
          throw new ApiError(
            404,
            'Local login is not available',
            'This server uses an external identity provider (CODEMIE_IDP=external); get a token from it.',
          );
        }
        const { email, password } = body;
        let user;
        try {
          user = await rt.tokens.checkPassword(email, password);
        } catch (err) {
          if (!(err instanceof OAuthError)) throw err;
          audit?.record({
            event: 'login.failed',
            outcome: 'failure',
            username: email,
            req,
            details: { method: 'local-auth', error: err.error, status: err.status },
          });
          if (err.status === 429) throw tooManyRequests(Number(err.headers['retry-after'] ?? 60), err.description);
          throw unauthorized(err.status === 401 ? 'Invalid email or password.' : err.description, null);
        }
        audit?.record({ event: 'login.succeeded', outcome: 'success', userId: user.id, username: user.username, req, details: { method: 'local-auth' } });
        const issuer = issuerFor(config, req);
        const access = await rt.tokens.accessToken(issuer, user, BOOTSTRAP_CLIENT, 'profile email');
        return {
          access_token: access,
          token_type: 'Bearer',
          expires_in: config.accessTokenTtl,
          user: userResponse({
            id: user.id,
            username: user.username,
            name: user.name,
            email: user.email,
            roles: user.roles,
            projects: user.projects,
            adminProjects: user.adminProjects,
            isAdmin: user.roles.includes(config.adminRole),
            userType: user.userType,
          }),
        };
      },
    }),
  ];
}
