/**
 * The identity domain: token verification for every protected route (the authenticator, joined
 * with the stored memberships and flags in effective-users.ts), the embedded Keycloak-compatible
 * IdP (CODEMIE_IDP=embedded, the default). The "me" and login routes and the user-admin API need
 * the projects service: they are a module of their own, built after it (user-admin-module.ts).
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { Authenticator } from '../api/auth.js';
import { publicBaseUrl } from '../config/config.js';
import { bearerAuthenticator } from '../auth/authenticator.js';
import { authHint, createIdentityRuntime, type IdentityRuntime } from './runtime.js';
import { bootstrapIdentity } from './bootstrap.js';
import { oidcScope } from './oidc-routes.js';
import { EffectiveUsers, RedisInvalidation } from './effective-users.js';
import { IdentityProjectUsers } from './project-users.js';

export interface IdentityServices extends IdentityRuntime {
  /** Resolves the caller of every protected route (token → effective user). */
  authenticator: Authenticator;
  /** Stored memberships and flags joined to what another authenticator yields (tests swap the token reader). */
  withMemberships(inner: Authenticator): Authenticator;
  effective: EffectiveUsers;
  /** Users as the projects domain sees them. */
  projectUsers: IdentityProjectUsers;
}

export function identityModule(infra: Infra): Module<IdentityServices> {
  const { config } = infra;
  const rt = createIdentityRuntime(config, infra.store, {
    audit: (event, d) => infra.audit.record({ event, outcome: 'success', username: d.username ?? null, clientId: d.clientId ?? null, details: d }),
    redis: infra.redis,
    onRedisError: (err) => infra.log.warn({ err: err.message }, 'login lock-out counters: Redis unavailable, counting in this process'),
  });
  let fanOut: RedisInvalidation | undefined;
  const effective = new EffectiveUsers({
    repo: rt.repo,
    memberships: rt.memberships,
    realm: config.idpRealm,
    embedded: rt.embedded,
    trustedIssuers: config.trustedIssuers,
    adminRole: config.adminRole,
    auditorRole: config.auditorRole,
    ttlMs: config.membershipCacheMs,
    onInvalidate: (ids) => fanOut?.publish(ids),
    onError: (err) => infra.log.warn({ err: err.message }, 'recording a user seen in a token failed'),
  });
  if (infra.redis) {
    const onError = (err: Error) => infra.log.warn({ err: err.message }, 'membership cache invalidation: Redis unavailable');
    fanOut = new RedisInvalidation(infra.redis, config.redisPrefix, (ids) => effective.invalidate(ids, true), onError);
    infra.onClose.push(() => fanOut!.close());
  }
  const withMemberships = (inner: Authenticator) => effective.wrap(inner);
  const services: IdentityServices = {
    ...rt,
    authenticator: withMemberships(bearerAuthenticator(rt.verifier, config, { howToAuthenticate: (req) => authHint(config, req) })),
    withMemberships,
    effective,
    projectUsers: new IdentityProjectUsers(rt.repo, config.idpRealm, config.userProjectLimit),
  };
  return {
    name: 'identity',
    services,
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
        memberships: rt.memberships,
      });
      services.generatedAdminPassword = boot.generatedPassword;
      await ensureConsoleClient(rt, config.idpRealm, config.consoleClientId);
      await rt.keys.ensureActive();
      // Expired refresh tokens are useless; drop them now and then.
      await rt.repo.purgeRefreshTokens(new Date().toISOString());
    },
  };
}

/**
 * The web console's public client (authorization code + PKCE, no direct access grants), created
 * on any start where it is missing, so installations older than the console get it too.
 */
async function ensureConsoleClient(rt: IdentityRuntime, realm: string, clientId: string): Promise<void> {
  if (await rt.repo.clientById(realm, clientId)) return;
  try {
    await rt.repo.insertClient({ realm, clientId, publicClient: true, secretHash: null, directAccessGrants: false, serviceAccounts: false });
  } catch (err) {
    // Another process starting at the same time created it.
    if (!(await rt.repo.clientById(realm, clientId))) throw err;
  }
}
