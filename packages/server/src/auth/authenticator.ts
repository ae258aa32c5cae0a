/**
 * The platform's Authenticator: `Authorization: Bearer <JWT>` → AuthUser, with a 401 whose
 * `details` says exactly what was wrong and, for the common mistakes, how to get a token.
 */
import type { FastifyRequest } from 'fastify';
import type { Authenticator, AuthUser } from '../api/auth.js';
import { unauthorized } from '../api/errors.js';
import type { ClaimNames } from './claims.js';
import { claimsToUser } from './claims.js';
import { deepFreeze } from '../deep-freeze.js';
import { TokenRejected, type TokenVerifier } from './verifier.js';

export interface AuthHints {
  /** How to obtain a token (for this request's base URL), appended to "missing/wrong scheme" errors. */
  howToAuthenticate(req: FastifyRequest): string;
}

export function bearerAuthenticator(verifier: TokenVerifier, names: ClaimNames, hints: AuthHints): Authenticator {
  // The verifier hands back the same payload object for a token it verified recently (its cache),
  // so the user read from those claims is kept with it instead of re-read on every request.
  // Frozen: requests share it.
  const users = new WeakMap<object, AuthUser>();
  return {
    async authenticate(req: FastifyRequest): Promise<AuthUser> {
      const header = req.headers.authorization;
      if (header === undefined || header.trim() === '') {
        throw unauthorized(`Missing Authorization header. ${hints.howToAuthenticate(req)}`);
      }
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (!m) {
        const scheme = header.trim().split(/\s+/)[0];
        const looksLikeUserId = !header.trim().includes(' ');
        throw unauthorized(
          looksLikeUserId
            ? `The Authorization header must be 'Bearer <access token>'; a raw user id (local no-credentials mode) is not accepted. ${hints.howToAuthenticate(req)}`
            : `Authorization header must use the Bearer scheme (got '${scheme}'). ${hints.howToAuthenticate(req)}`,
        );
      }
      try {
        const payload = await verifier.verify(m[1]);
        let user = users.get(payload);
        if (!user) {
          user = deepFreeze(claimsToUser(payload, names, m[1]));
          users.set(payload, user);
        }
        return user;
      } catch (err) {
        if (err instanceof TokenRejected) throw unauthorized(err.details);
        throw err;
      }
    },
  };
}
