/**
 * Verifies bearer JWTs against the issuers this server trusts:
 *  - the embedded IdP (keys read in-process from the database, no HTTP round trip), and
 *  - external OIDC issuers (CODEMIE_TRUSTED_ISSUERS), whose JWKS is found through
 *    `<issuer>/.well-known/openid-configuration`, cached, and refetched on an unknown
 *    `kid` (at most once per cooldown).
 * Checks: algorithm allow-list (asymmetric only), signature, `iss`, `exp`/`nbf` with 30 s
 * leeway, and the audience policy (`aud` or `azp` ∈ CODEMIE_JWT_AUDIENCE when set). The token
 * must be an ACCESS token, whoever signed it: `exp` and `iat` present, `iat` not in the future,
 * and a `typ` that says so: Keycloak's `typ: "Bearer"` claim (ID, Refresh, Offline and Logout
 * tokens carry other values) or RFC 9068's header `typ: at+jwt`.
 *
 * Embedded issuer: the IdP mints `iss` from the URL the client used (CODEMIE_PUBLIC_URL
 * when set), so the same server may have minted tokens for several URLs (localhost,
 * 127.0.0.1, the machine's hostname). A token whose `iss` ends in `/auth/realms/<realm>`
 * is treated as embedded and must verify with one of the embedded keys: only this server
 * holds them, so the key, not the host part of `iss`, is what proves the origin.
 */
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import type { SigningKeys } from '../identity/keys.js';
import { trackCache } from '../metrics/caches.js';

export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'];
export const CLOCK_LEEWAY_SECONDS = 30;
/** Keycloak's `typ` claim of an access token (identity/tokens.ts mints the same). */
export const ACCESS_TOKEN_TYP = 'Bearer';
/** RFC 9068: the JOSE header `typ` of a JWT access token. */
const AT_JWT = /^(application\/)?at\+jwt$/i;
/** What other Keycloak token types are, for the message that refuses them. */
const TOKEN_KINDS: Record<string, string> = { id: 'an ID token', refresh: 'a refresh token', offline: 'an offline (refresh) token', logout: 'a logout token' };

/** A token that must be refused; `details` says why in words a client can act on. */
export class TokenRejected extends Error {
  constructor(readonly details: string) {
    super(details);
    this.name = 'TokenRejected';
  }
}

export interface VerifierOptions {
  trustedIssuers: string[];
  audience: string[];
  embedded?: { realm: string; keys: SigningKeys };
  /** Minimum time between two JWKS fetches of one issuer (unknown kid); default 30 s. */
  jwksCooldownMs?: number;
  /** Timeout of discovery and JWKS requests; default 5 s. */
  fetchTimeoutMs?: number;
}

interface RemoteIssuer {
  jwks?: JWTVerifyGetKey;
  discovering?: Promise<JWTVerifyGetKey>;
  failedAt?: number;
  failure?: string;
}

const stripSlash = (s: string) => s.replace(/\/+$/, '');

/** Verified tokens are remembered this long at most (never past their `exp`), bounded in number. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

export class TokenVerifier {
  private readonly trusted: Map<string, RemoteIssuer>;
  private readonly embeddedSuffix: string | undefined;
  /**
   * Signature checks cost ~0.3 ms of CPU and SDK clients reuse one token for many calls. Access
   * tokens are stateless (no revocation list), so a token verified a moment ago is still valid
   * until its `exp`; the short TTL bounds how long a retired signing key keeps being honoured.
   */
  private readonly verified = new Map<string, { payload: JWTPayload; until: number }>();

  constructor(private readonly opts: VerifierOptions) {
    trackCache('verified_tokens', this, (v) => v.verified.size, VERIFIED_MAX);
    this.trusted = new Map(opts.trustedIssuers.map((i) => [stripSlash(i), {}]));
    this.embeddedSuffix = opts.embedded ? `/auth/realms/${opts.embedded.realm}` : undefined;
  }

  async verify(token: string): Promise<JWTPayload> {
    const hit = this.verified.get(token);
    if (hit) {
      if (Date.now() < hit.until) return hit.payload;
      this.verified.delete(token);
    }
    const payload = await this.verifyUncached(token);
    const expMs = (payload.exp as number) * 1000; // verified tokens always have one
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { payload, until: Math.min(expMs, Date.now() + VERIFIED_TTL_MS) });
    return payload;
  }

  private async verifyUncached(token: string): Promise<JWTPayload> {
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new TokenRejected('Malformed token: expected a signed JWT (header.payload.signature).');
    }
    if (!header.alg || !ALLOWED_ALGS.includes(header.alg)) {
      throw new TokenRejected(`Token algorithm '${header.alg ?? 'missing'}' is not allowed; accepted: ${ALLOWED_ALGS.join(', ')}.`);
    }
    if (typeof unverified.iss !== 'string' || !unverified.iss) throw new TokenRejected('Token has no issuer (iss).');
    const iss = stripSlash(unverified.iss);
    let getKey: JWTVerifyGetKey;
    if (this.trusted.has(iss)) getKey = await this.remoteKeys(iss);
    else if (this.embeddedSuffix && /^https?:\/\/[^/]+/.test(iss) && iss.endsWith(this.embeddedSuffix)) getKey = this.embeddedKeys(iss);
    else throw new TokenRejected(`Token issuer '${unverified.iss}' is not trusted by this server.`);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: unverified.iss,
        algorithms: ALLOWED_ALGS,
        clockTolerance: CLOCK_LEEWAY_SECONDS,
      }));
    } catch (err) {
      throw this.explain(err, header, unverified.iss);
    }
    this.checkAccessToken(payload, header);
    this.checkAudience(payload);
    return payload;
  }

  /** An ID, refresh or logout token signed by a trusted key is still not an access token. */
  private checkAccessToken(payload: JWTPayload, header: ProtectedHeaderParameters): void {
    const typ = payload.typ;
    if (typ !== undefined && (typeof typ !== 'string' || typ.toLowerCase() !== ACCESS_TOKEN_TYP.toLowerCase())) {
      const kind = typeof typ === 'string' ? TOKEN_KINDS[typ.toLowerCase()] : undefined;
      throw new TokenRejected(`Token is ${kind ?? `of type '${String(typ)}'`}, not an access token: send the access_token of the token response.`);
    }
    if (typ === undefined && !(typeof header.typ === 'string' && AT_JWT.test(header.typ))) {
      throw new TokenRejected(
        `Token does not say it is an access token: expected the claim typ "${ACCESS_TOKEN_TYP}" (Keycloak) or the header typ "at+jwt" (RFC 9068).`,
      );
    }
    if (typeof payload.exp !== 'number') throw new TokenRejected('Token has no expiry (exp): access tokens must expire.');
    if (typeof payload.iat !== 'number') throw new TokenRejected('Token has no issue time (iat).');
    if (payload.iat > Date.now() / 1000 + CLOCK_LEEWAY_SECONDS) throw new TokenRejected("Token is issued in the future (iat): check the issuer's clock.");
  }

  private embeddedKeys(iss: string): JWTVerifyGetKey {
    const keys = this.opts.embedded!.keys;
    return async (header) => {
      const k = await keys.verificationKey(header.kid);
      if (!k) throw new TokenRejected(`Token signing key '${header.kid ?? '(no kid)'}' is not a key of issuer '${iss}'.`);
      return k.key;
    };
  }

  private async remoteKeys(iss: string): Promise<JWTVerifyGetKey> {
    const entry = this.trusted.get(iss)!;
    if (entry.jwks) return entry.jwks;
    const cooldown = this.opts.jwksCooldownMs ?? 30_000;
    if (entry.failedAt && Date.now() - entry.failedAt < Math.min(cooldown, 10_000)) {
      throw new TokenRejected(`Could not load the signing keys of issuer '${iss}': ${entry.failure}`);
    }
    entry.discovering ??= this.discover(iss).finally(() => (entry.discovering = undefined));
    try {
      entry.jwks = await entry.discovering;
      entry.failedAt = undefined;
      return entry.jwks;
    } catch (err) {
      entry.failedAt = Date.now();
      entry.failure = (err as Error).message;
      throw new TokenRejected(`Could not load the signing keys of issuer '${iss}': ${entry.failure}`);
    }
  }

  private async discover(iss: string): Promise<JWTVerifyGetKey> {
    const url = `${iss}/.well-known/openid-configuration`;
    const timeout = this.opts.fetchTimeoutMs ?? 5000;
    let doc: { issuer?: string; jwks_uri?: string };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeout), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw new Error(`discovery at ${url} failed (${(err as Error).message})`);
    }
    if (typeof doc.jwks_uri !== 'string') throw new Error(`discovery document at ${url} has no jwks_uri`);
    if (doc.issuer && stripSlash(doc.issuer) !== iss) throw new Error(`discovery document at ${url} names another issuer (${doc.issuer})`);
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      cooldownDuration: this.opts.jwksCooldownMs ?? 30_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: timeout,
    });
  }

  private explain(err: unknown, header: ProtectedHeaderParameters, iss: string): TokenRejected {
    if (err instanceof TokenRejected) return err;
    if (err instanceof errors.JWTExpired) return new TokenRejected('Token has expired.');
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'nbf') return new TokenRejected('Token is not yet valid (nbf is in the future).');
      return new TokenRejected(`Token claim '${err.claim}' is invalid: ${err.reason}.`);
    }
    if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('Token signature is invalid.');
    if (err instanceof errors.JWKSNoMatchingKey) {
      return new TokenRejected(`Token signing key '${header.kid ?? '(no kid)'}' is not a key of issuer '${iss}'.`);
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return new TokenRejected(`Token algorithm '${header.alg}' is not allowed.`);
    if (err instanceof errors.JWKSTimeout) return new TokenRejected(`Timed out loading the signing keys of issuer '${iss}'.`);
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new TokenRejected(`Malformed token: ${err.message}.`);
    if (err instanceof errors.JOSEError) return new TokenRejected(`Token verification failed: ${err.message}.`);
    return new TokenRejected(`Token verification failed: ${(err as Error)?.message ?? String(err)}.`);
  }

  private checkAudience(payload: JWTPayload): void {
    const wanted = this.opts.audience;
    if (!wanted.length) return;
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const azp = typeof payload.azp === 'string' ? [payload.azp] : [];
    if (![...aud, ...azp].some((a) => wanted.includes(a))) {
      throw new TokenRejected(
        `Token audience does not match: aud=${JSON.stringify(payload.aud ?? null)}, azp=${JSON.stringify(payload.azp ?? null)}; expected one of ${wanted.join(', ')}.`,
      );
    }
  }
}
