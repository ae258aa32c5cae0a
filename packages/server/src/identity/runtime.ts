/** The identity domain's services for one process, built from config + store. */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { publicBaseUrl } from '../config/config.js';
import type { Store } from '../store/db.js';
import { TokenVerifier, CLOCK_LEEWAY_SECONDS } from '../auth/verifier.js';
import { IdentityRepo } from './repo.js';
import { SigningKeys } from './keys.js';
import { keyringOf } from '../integrations/keyring.js';
import type { Redis } from 'ioredis';
import { MemoryLoginThrottle, RedisLoginThrottle, type LoginThrottle } from './throttle.js';
import { TokenService } from './tokens.js';
import { IdentityAdmin, type AdminAuditHook } from './admin.js';
import { MembershipStore } from '../projects/memberships.js';
import { AuthCodes } from './authorize.js';

export interface IdentityRuntime {
  embedded: boolean;
  repo: IdentityRepo;
  keys: SigningKeys;
  tokens: TokenService;
  /** One-time codes of the authorization-code grant. */
  codes: AuthCodes;
  admin: IdentityAdmin;
  verifier: TokenVerifier;
  throttle: LoginThrottle;
  /** Project memberships (projects/memberships.ts), shared with the projects domain. */
  memberships: MembershipStore;
  /** The admin password generated on this installation's very first start (this process only; never stored). */
  generatedAdminPassword?: string;
}

export interface RuntimeOptions {
  /** JWKS refetch cooldown for external issuers (tests shorten it). */
  jwksCooldownMs?: number;
  /** Identity changes (users, clients, secrets) go to the audit log through this. */
  audit?: AdminAuditHook;
  /** Scale-out mode: lock-out counts shared by every process through Redis. */
  redis?: Redis;
  onRedisError?: (err: Error) => void;
  /** The membership store to use (default: one on this store). */
  memberships?: MembershipStore;
}

export function createIdentityRuntime(config: Config, store: Store, opts: RuntimeOptions = {}): IdentityRuntime {
  const embedded = config.idp === 'embedded';
  const memberships = opts.memberships ?? new MembershipStore(store.db);
  const repo = new IdentityRepo(store.db, memberships);
  // Retired keys stay published while tokens they signed can still be valid.
  const keys = new SigningKeys(store.db, config.accessTokenTtl + CLOCK_LEEWAY_SECONDS + 60);
  // Private keys encrypted at rest with the integrations' keyring, when every process can have the
  // same key: CODEMIE_SECRET_KEY is set, or the database is the SQLite file beside the key file.
  if (config.secretKey || store.dialect === 'sqlite') keys.useSealer(keyringOf(config));
  const throttle: LoginThrottle = opts.redis
    ? new RedisLoginThrottle(opts.redis, config.redisPrefix, config.loginMaxFailures, config.loginLockoutSeconds, opts.onRedisError)
    : new MemoryLoginThrottle(config.loginMaxFailures, config.loginLockoutSeconds);
  const codes = new AuthCodes(store.db);
  const tokens = new TokenService(repo, keys, throttle, config, codes);
  const admin = new IdentityAdmin(repo, config.idpRealm, config.scryptN, opts.audit);
  const verifier = new TokenVerifier({
    trustedIssuers: config.trustedIssuers,
    audience: config.jwtAudience,
    embedded: embedded ? { realm: config.idpRealm, keys } : undefined,
    jwksCooldownMs: opts.jwksCooldownMs,
  });
  return { embedded, repo, keys, tokens, codes, admin, verifier, throttle, memberships };
}

/** How to get a token, for 401 details. */
/** Base URL as the client sees it: CODEMIE_PUBLIC_URL when set, else the request's scheme and Host. */
export function requestBaseUrl(config: Config, req: FastifyRequest): string {
  return config.publicUrl ? publicBaseUrl(config) : `${req.protocol}://${req.host}`;
}

export function authHint(config: Config, req: FastifyRequest): string {
  const base = requestBaseUrl(config, req);
  if (config.idp === 'external') {
    return `Send 'Authorization: Bearer <access token>' from a trusted identity provider (${config.trustedIssuers.join(', ') || 'none configured: set CODEMIE_TRUSTED_ISSUERS'}).`;
  }
  return (
    `Send 'Authorization: Bearer <access token>'. Get one from ${base}/auth/realms/${config.idpRealm}/protocol/openid-connect/token ` +
    `(form: grant_type=password, client_id=codemie-sdk, username, password; or grant_type=client_credentials with client_id and client_secret), ` +
    `or POST ${base}/v1/local-auth/login with {"email","password"}.`
  );
}
