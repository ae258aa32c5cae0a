/**
 * The authentication seam. Every route is protected unless its route config says
 * `{ public: true }`. How a request becomes a user is the Authenticator's business
 * (JWT via JWKS, embedded IdP, ...), so the HTTP layer never changes when it does.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unauthorized } from './errors.js';

export interface AuthUser {
  id: string;
  username: string;
  name: string;
  email: string;
  roles: string[];
  /** Projects the user belongs to (`applications` claim). */
  projects: string[];
  /** Projects the user administers (`applications_admin` claim). */
  adminProjects: string[];
  isAdmin: boolean;
  userType: string;
  /** The raw bearer token, for downstream token exchange; never logged. */
  token?: string;
}

export interface Authenticator {
  /** Resolves the caller or throws an ApiError (401). */
  authenticate(req: FastifyRequest): Promise<AuthUser>;
}

/** Used until an identity provider is configured: every protected route answers 401. */
export const denyAll: Authenticator = {
  async authenticate() {
    throw unauthorized('No identity provider is configured on this server.');
  },
};

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
  interface FastifyContextConfig {
    /** Route is reachable without a token. */
    public?: boolean;
    /** A public route that still verifies a token when one is sent (`access: 'optional'`). */
    optionalAuth?: boolean;
  }
}

export function installAuth(app: FastifyInstance, authenticator: () => Authenticator): void {
  app.decorateRequest('user', null);
  // The request's log line and 5xx errors carry the user id (a child logger per request cost ~2% of CPU).
  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    if (config?.optionalAuth && req.headers.authorization) {
      req.user = await authenticator().authenticate(req);
      return;
    }
    if (config?.public || !req.routeOptions.url) return; // unknown routes fall through to 404
    req.user = await authenticator().authenticate(req);
  });
}

/** For handlers: the authenticated caller (the hook guarantees it on protected routes). */
export function currentUser(req: FastifyRequest): AuthUser {
  if (!req.user) throw unauthorized();
  return req.user;
}
