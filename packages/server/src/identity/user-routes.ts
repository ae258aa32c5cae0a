/**
 * "Me" routes — `GET /v1/user` (alias `/v1/profile`), `GET|PUT /v1/user/data` — and the Python
 * SDK's `POST /v1/local-auth/login`. Who: any authenticated user (login: anyone).
 */
import { z } from 'zod';
import type { AuthUser } from '../api/auth.js';
import { defineRoute, type Route } from '../api/route.js';
import { ApiError, tooManyRequests } from '../api/errors.js';
import type { Config } from '../config/config.js';
import type { AuditLog } from '../audit/audit.js';
import type { IdentityRuntime } from './runtime.js';
import { BOOTSTRAP_CLIENT } from './bootstrap.js';
import { OAuthError } from './tokens.js';
import { issuerFor } from './oidc-routes.js';
import { accountDeactivated, type EffectiveUsers } from './effective-users.js';
import type { UserAdminService } from './user-admin.js';
import { userDataBody, userDataSchema, userDataUpdateSchema, userResponseSchema } from './user-schemas.js';

export { userResponseSchema } from './user-schemas.js';

const loginBody = z.object({
  email: z.string().min(1).describe('E-mail address or username'),
  password: z.string().min(1),
});

export interface UserRouteDeps {
  config: Config;
  rt: IdentityRuntime;
  effective: EffectiveUsers;
  users: UserAdminService;
  audit?: AuditLog;
}

export function userRoutes({ config, rt, effective, users, audit }: UserRouteDeps): Route[] {
  const tags = ['user'];
  const me = (path: string) =>
    defineRoute({
      method: 'GET',
      path,
      tags,
      summary: 'The authenticated user: roles, projects (with display names), project limit',
      description: 'Who: any authenticated user.',
      responses: { 200: userResponseSchema },
      handler: ({ user }) => users.me(user),
    });
  return [
    me('/user'),
    me('/profile'),
    defineRoute({
      method: 'GET',
      path: '/user/data',
      tags,
      summary: 'UI preferences of the authenticated user (created with defaults on first read)',
      description: 'Who: any authenticated user, for themselves.',
      responses: { 200: userDataSchema },
      async handler({ user }) {
        return { ...(await users.userData(user)), stt_support: false };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/user/data',
      tags,
      summary: 'Set the UI preferences of the authenticated user (`sidebar_view`: flat | folders)',
      description: 'Who: any authenticated user, for themselves.',
      body: userDataBody,
      responses: { 200: userDataUpdateSchema },
      handler: ({ user, body }) => users.userData(user, body.sidebar_view),
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
          if (err.description === 'Account disabled') throw accountDeactivated();
          throw new ApiError(401, 'Invalid email or password', null, null);
        }
        audit?.record({ event: 'login.succeeded', outcome: 'success', userId: user.id, username: user.username, req, details: { method: 'local-auth' } });
        const issuer = issuerFor(config, req);
        const access = await rt.tokens.accessToken(issuer, user, BOOTSTRAP_CLIENT, 'profile email');
        const claimed: AuthUser = {
          id: user.id,
          username: user.username,
          name: user.name,
          email: user.email,
          roles: user.roles,
          projects: user.projects,
          adminProjects: user.adminProjects,
          isAdmin: user.roles.includes(config.adminRole),
          userType: user.userType,
        };
        return {
          access_token: access,
          token_type: 'Bearer',
          expires_in: config.accessTokenTtl,
          user: await users.me(await effective.resolve(claimed)),
        };
      },
    }),
  ];
}
