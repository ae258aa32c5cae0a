/**
 * The identity domain: token verification for every protected route (the authenticator), the
 * embedded Keycloak-compatible IdP (CODEMIE_IDP=embedded, the default), and /v1/user.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { Authenticator } from '../api/auth.js';
import { publicBaseUrl } from '../config/config.js';
import { bearerAuthenticator } from '../auth/authenticator.js';
import { authHint, createIdentityRuntime, type IdentityRuntime } from './runtime.js';
import { bootstrapIdentity } from './bootstrap.js';
import { oidcScope } from './oidc-routes.js';
import { userRoutes } from './user-routes.js';

export interface IdentityServices extends IdentityRuntime {
  /** Resolves the caller of every protected route. */
  authenticator: Authenticator;
}

export function identityModule(infra: Infra): Module<IdentityServices> {
  const { config } = infra;
  const rt = createIdentityRuntime(config, infra.store, {
    audit: (event, d) => infra.audit.record({ event, outcome: 'success', username: d.username ?? null, clientId: d.clientId ?? null, details: d }),
    redis: infra.redis,
    onRedisError: (err) => infra.log.warn({ err: err.message }, 'login lock-out counters: Redis unavailable, counting in this process'),
  });
  const services: IdentityServices = {
    ...rt,
    authenticator: bearerAuthenticator(rt.verifier, config, { howToAuthenticate: (req) => authHint(config, req) }),
  };
  return {
    name: 'identity',
    services,
    routes: userRoutes(config, rt, infra.audit),
    scopes: rt.embedded ? [oidcScope(config, rt, infra.audit)] : [],
    async init() {
      if (config.idp === 'external' && !config.trustedIssuers.length) {
        infra.log.warn('CODEMIE_IDP=external but CODEMIE_TRUSTED_ISSUERS is empty: every protected route will answer 401');
      }
      if (!rt.embedded) return;
      const boot = await bootstrapIdentity(infra.store.db, {
        realm: config.idpRealm,
        scryptN: config.scryptN,
        adminPassword: config.adminPassword,
        adminRole: config.adminRole,
        publicUrl: publicBaseUrl(config),
      });
      services.generatedAdminPassword = boot.generatedPassword;
      await rt.keys.ensureActive();
      // Expired refresh tokens are useless; drop them now and then.
      await rt.repo.purgeRefreshTokens(new Date().toISOString());
    },
  };
}
