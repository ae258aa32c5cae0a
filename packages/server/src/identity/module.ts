/**
 * The identity domain: token verification for every protected route (ctx.authenticator),
 * the embedded Keycloak-compatible IdP (CODEMIE_IDP=embedded, the default), and /v1/user.
 */
import type { AppContext, DomainModule } from '../context.js';
import { publicBaseUrl } from '../config/config.js';
import { bearerAuthenticator } from '../auth/authenticator.js';
import { authHint, createIdentityRuntime, type IdentityRuntime } from './runtime.js';
import { bootstrapIdentity } from './bootstrap.js';
import { oidcRoutes } from './oidc-routes.js';
import { userRoutes } from './user-routes.js';

const runtimes = new WeakMap<AppContext, IdentityRuntime>();

/** The identity services of a running platform (tests and other modules' wiring). */
export function identityOf(ctx: AppContext): IdentityRuntime {
  const rt = runtimes.get(ctx);
  if (!rt) throw new Error('The identity module is not initialised in this platform');
  return rt;
}

export const identityModule: DomainModule = {
  name: 'identity',
  async init(ctx) {
    const { config } = ctx;
    if (config.idp === 'external' && !config.trustedIssuers.length) {
      ctx.log.warn('CODEMIE_IDP=external but CODEMIE_TRUSTED_ISSUERS is empty: every protected route will answer 401');
    }
    const rt = createIdentityRuntime(config, ctx.store, {
      audit: (event, d) => ctx.audit.record({ event, outcome: 'success', username: d.username ?? null, clientId: d.clientId ?? null, details: d }),
      redis: ctx.redis,
      onRedisError: (err) => ctx.log.warn({ err: err.message }, 'login lock-out counters: Redis unavailable, counting in this process'),
    });
    if (rt.embedded) {
      const boot = await bootstrapIdentity(ctx.store.db, {
        realm: config.idpRealm,
        scryptN: config.scryptN,
        adminPassword: config.adminPassword,
        adminRole: config.adminRole,
        publicUrl: publicBaseUrl(config),
      });
      rt.generatedAdminPassword = boot.generatedPassword;
      await rt.keys.ensureActive();
      // Expired refresh tokens are useless; drop them now and then.
      await rt.repo.purgeRefreshTokens(new Date().toISOString());
    }
    runtimes.set(ctx, rt);
    ctx.authenticator = bearerAuthenticator(rt.verifier, config, { howToAuthenticate: (req) => authHint(config, req) });
  },
  rootRoutes(app, ctx) {
    const rt = identityOf(ctx);
    if (rt.embedded) oidcRoutes(app, ctx.config, rt, ctx.audit);
  },
  apiRoutes(app, ctx) {
    userRoutes(app, ctx.config, identityOf(ctx), ctx.audit);
  },
};
