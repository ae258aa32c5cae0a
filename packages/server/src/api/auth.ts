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
  /**
   * Projects the user belongs to: stored memberships (administered ones included) plus, for tokens
   * of external issuers, the `applications` claim. Filled in one place (identity/effective-users.ts).
   */
  projects: string[];
  /** Projects the user administers: stored project-admin memberships plus the `applications_admin` claim. */
  adminProjects: string[];
  /** Platform administrator (realm role CODEMIE_ADMIN_ROLE). */
  isAdmin: boolean;
  /** Maintainer, as the reference names the highest role: the same as admin here. */
  isMaintainer?: boolean;
  /** Read-only auditor (realm role CODEMIE_AUDITOR_ROLE): reads across projects, writes nothing it could not write without the role. */
  isAuditor?: boolean;
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
