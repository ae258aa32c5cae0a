/**
 * The embedded IdP's OAuth2 grants (password, client_credentials, refresh_token) and
 * logout, with Keycloak's response and error shapes. Access tokens are RS256 JWTs with
 * Keycloak-like claims; refresh tokens are opaque random strings stored as sha256 hashes,
 * rotated on every use (a replayed one revokes its whole session).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config/config.js';
import type { IdentityRepo, UserRecord, ClientRecord } from './repo.js';
import type { SigningKeys } from './keys.js';
import type { LoginThrottle } from './throttle.js';
import { dummyHash, generateSecret, sha256, verifySecret } from './secrets.js';
import { ACCESS_TOKEN_TYP } from '../auth/verifier.js';
import { pkceMatches, type AuthCodes } from './authorize.js';

/** A Keycloak-style OAuth error: `{error, error_description}` with its HTTP status. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }
  toBody() {
    return { error: this.error, error_description: this.description };
  }
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_expires_in: number;
  refresh_token?: string;
  id_token?: string;
  token_type: 'Bearer';
  'not-before-policy': number;
  session_state?: string;
  scope: string;
}

/** Form fields of the token and logout endpoints (plus HTTP Basic client credentials). */
export type OAuthParams = Record<string, string | undefined>;

const BASE_SCOPE = ['profile', 'email'];

type IdentityConfig = Pick<
  Config,
  | 'idpRealm'
  | 'accessTokenTtl'
  | 'refreshTokenTtl'
  | 'scryptN'
  | 'claimRoles'
  | 'claimProjects'
  | 'claimAdminProjects'
  | 'claimUserType'
>;

function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    if (typeof cur[seg] !== 'object' || cur[seg] === null) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]] = value;
}

export class TokenService {
  constructor(
    private readonly repo: IdentityRepo,
    private readonly keys: SigningKeys,
    private readonly throttle: LoginThrottle,
    private readonly cfg: IdentityConfig,
    /** One-time codes of the authorization-code grant (authorize.ts). */
    private readonly codes?: AuthCodes,
  ) {}

  get realm(): string {
    return this.cfg.idpRealm;
  }

  // ── grants ──

  async token(issuer: string, p: OAuthParams): Promise<TokenResponse> {
    const grant = p.grant_type;
    if (!grant) throw new OAuthError(400, 'invalid_request', 'Missing form parameter: grant_type');
    if (!['password', 'client_credentials', 'refresh_token', 'authorization_code'].includes(grant)) {
      throw new OAuthError(400, 'unsupported_grant_type', 'Unsupported grant_type');
    }
    const client = await this.authenticateClient(p);
    if (grant === 'authorization_code') return this.codeGrant(issuer, client, p);
    if (grant === 'password') return this.passwordGrant(issuer, client, p);
    if (grant === 'client_credentials') return this.clientCredentialsGrant(issuer, client, p);
    return this.refreshGrant(issuer, client, p);
  }

  private async passwordGrant(issuer: string, client: ClientRecord, p: OAuthParams): Promise<TokenResponse> {
    if (!client.directAccessGrants) throw new OAuthError(400, 'unauthorized_client', 'Client not allowed for direct access grants');
    if (!p.username) throw new OAuthError(400, 'invalid_request', 'Missing parameter: username');
    const user = await this.checkPassword(p.username, p.password ?? '');
    return this.issue(issuer, user, client.clientId, p.scope, true);
  }

  /** authorization_code with PKCE: the code is single-use and bound to its client, redirect URI and challenge. */
  private async codeGrant(issuer: string, client: ClientRecord, p: OAuthParams): Promise<TokenResponse> {
    if (!p.code) throw new OAuthError(400, 'invalid_request', 'Missing parameter: code');
    const grant = this.codes ? await this.codes.redeem(p.code) : undefined;
    if (!grant) throw new OAuthError(400, 'invalid_grant', 'Code not valid');
    if (grant.clientId !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'Auth error');
    if (grant.redirectUri !== p.redirect_uri) throw new OAuthError(400, 'invalid_grant', 'Incorrect redirect_uri');
    if (!p.code_verifier) throw new OAuthError(400, 'invalid_grant', 'PKCE code verifier not specified');
    if (!pkceMatches(p.code_verifier, grant.codeChallenge)) throw new OAuthError(400, 'invalid_grant', 'PKCE verification failed: Invalid code verifier');
    const user = await this.repo.userById(grant.userId);
    if (!user || !user.enabled) throw new OAuthError(400, 'invalid_grant', 'User disabled');
    return this.issue(issuer, user, client.clientId, grant.scope, true, grant.sessionId);
  }

  private async clientCredentialsGrant(issuer: string, client: ClientRecord, p: OAuthParams): Promise<TokenResponse> {
    if (client.publicClient) throw new OAuthError(401, 'unauthorized_client', 'Public client not allowed to retrieve service account');
    if (!client.serviceAccounts) throw new OAuthError(401, 'unauthorized_client', 'Client not enabled to retrieve service account');
    const user = await this.repo.userByUsername(this.realm, `service-account-${client.clientId}`);
    if (!user || !user.enabled) throw new OAuthError(400, 'invalid_request', 'Client not enabled to retrieve service account');
    // Like Keycloak (use.refresh.tokens.for.client.credentials.grant = off): no refresh token.
    return this.issue(issuer, user, client.clientId, p.scope, false);
  }

  private async refreshGrant(issuer: string, client: ClientRecord, p: OAuthParams): Promise<TokenResponse> {
    const row = await this.refreshRow(client, p.refresh_token);
    if (row.revoked || !(await this.repo.consumeRefreshToken(row.id))) {
      await this.repo.revokeSession(row.session_id); // a used token came back: treat the session as stolen
      throw new OAuthError(400, 'invalid_grant', 'Session not active');
    }
    const user = await this.repo.userById(row.user_id);
    if (!user || !user.enabled) throw new OAuthError(400, 'invalid_grant', 'Session not active');
    return this.issue(issuer, user, client.clientId, row.scope, true, row.session_id);
  }

  /** Revokes the session of a refresh token (Keycloak's POST .../logout). */
  async logout(p: OAuthParams): Promise<void> {
    const client = await this.authenticateClient(p);
    const row = await this.refreshRow(client, p.refresh_token);
    if (row.revoked) throw new OAuthError(400, 'invalid_grant', 'Session not active');
    await this.repo.revokeSession(row.session_id);
  }

  /**
   * Username-or-email + password → user, with brute-force protection. Throws OAuthError
   * (401 invalid_grant, 400 account disabled, 429 locked out).
   */
  async checkPassword(login: string, password: string): Promise<UserRecord> {
    const found = await this.repo.userForLogin(this.realm, login);
    // One counter per account, whether it is named by username or e-mail.
    const key = found ? `user:${found.user.id}` : `login:${this.realm}:${login.toLowerCase()}`;
    await this.refuseIfLocked(key, 'invalid_grant', 'Account temporarily disabled');
    const ok = await verifySecret(password, found?.passwordHash ?? (await dummyHash(this.cfg.scryptN)));
    if (!found || !found.passwordHash || !ok) {
      await this.throttle.failure(key);
      throw new OAuthError(401, 'invalid_grant', 'Invalid user credentials');
    }
    if (!found.user.enabled) throw new OAuthError(400, 'invalid_grant', 'Account disabled');
    await this.throttle.success(key);
    const now = new Date().toISOString();
    await this.repo.updateUser(found.user.id, { lastLoginAt: now });
    return { ...found.user, lastLoginAt: now };
  }

  private async refuseIfLocked(key: string, error: string, description: string): Promise<void> {
    const wait = await this.throttle.retryAfter(key);
    if (wait > 0) {
      throw new OAuthError(429, error, `${description}: too many failed attempts, retry in ${wait} s`, { 'retry-after': String(wait) });
    }
  }

  private async refreshRow(client: ClientRecord, token: string | undefined) {
    if (!token) throw new OAuthError(400, 'invalid_request', 'Missing parameter: refresh_token');
    const row = await this.repo.refreshTokenByHash(sha256(token));
    if (!row || row.realm !== this.realm) throw new OAuthError(400, 'invalid_grant', 'Invalid refresh token');
    if (row.client_id !== client.clientId) {
      throw new OAuthError(400, 'invalid_grant', "Invalid refresh token. Token client and authorized client don't match");
    }
    if (Date.parse(row.expires_at) <= Date.now()) throw new OAuthError(400, 'invalid_grant', 'Token is not active');
    return row;
  }

  /** Client authentication from the form or HTTP Basic, Keycloak's errors on failure. */
  async authenticateClient(p: OAuthParams): Promise<ClientRecord> {
    const clientId = p.client_id;
    if (!clientId) throw new OAuthError(400, 'invalid_client', 'Missing client_id parameter');
    const key = `client:${this.realm}:${clientId}`;
    const found = await this.repo.clientById(this.realm, clientId);
    if (!found || !found.client.enabled) throw new OAuthError(401, 'invalid_client', 'Invalid client or Invalid client credentials');
    if (found.client.publicClient) return found.client;
    await this.refuseIfLocked(key, 'invalid_client', 'Client temporarily disabled');
    const ok = !!p.client_secret && !!found.secretHash && (await verifySecret(p.client_secret, found.secretHash));
    if (!ok) {
      await this.throttle.failure(key);
      throw new OAuthError(401, 'unauthorized_client', 'Invalid client or Invalid client credentials');
    }
    await this.throttle.success(key);
    return found.client;
  }

  // ── minting ──

  private scopeOf(requested: string | undefined): string {
    const extra = (requested ?? '').split(/\s+/).filter((s) => s === 'openid');
    return [...extra, ...BASE_SCOPE].join(' ');
  }

  /** Issues tokens; a refresh token (and session) only when `withRefresh`. */
  async issue(
    issuer: string,
    user: UserRecord,
    clientId: string,
    requestedScope: string | undefined,
    withRefresh: boolean,
    sessionId: string = randomUUID(),
  ): Promise<TokenResponse> {
    const scope = this.scopeOf(requestedScope);
    const accessToken = await this.accessToken(issuer, user, clientId, scope, withRefresh ? sessionId : undefined);
    const res: TokenResponse = {
      access_token: accessToken,
      expires_in: this.cfg.accessTokenTtl,
      refresh_expires_in: 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope,
    };
    if (scope.split(' ').includes('openid')) res.id_token = await this.idToken(issuer, user, clientId, sessionId);
    if (withRefresh) {
      const refresh = generateSecret();
      await this.repo.insertRefreshToken({
        realm: this.realm,
        sessionId,
        tokenHash: sha256(refresh),
        userId: user.id,
        clientId,
        scope,
        expiresAt: new Date(Date.now() + this.cfg.refreshTokenTtl * 1000).toISOString(),
      });
      res.refresh_token = refresh;
      res.refresh_expires_in = this.cfg.refreshTokenTtl;
      res.session_state = sessionId;
    }
    return res;
  }

  /** An access token as Keycloak shapes it (claim names for roles/projects follow configuration). */
  async accessToken(issuer: string, user: UserRecord, clientId: string, scope: string, sessionId?: string): Promise<string> {
    const claims: Record<string, unknown> = {
      typ: ACCESS_TOKEN_TYP,
      azp: clientId,
      acr: '1',
      scope,
      email_verified: false,
      name: user.name,
      preferred_username: user.username,
      email: user.email || undefined,
    };
    if (sessionId) claims.sid = sessionId;
    if (user.serviceAccountClient) claims.client_id = user.serviceAccountClient;
    setAt(claims, this.cfg.claimRoles, user.roles);
    setAt(claims, this.cfg.claimProjects, user.projects);
    setAt(claims, this.cfg.claimAdminProjects, user.adminProjects);
    setAt(claims, this.cfg.claimUserType, user.userType);
    return this.sign(claims, issuer, user.id, 'account', this.cfg.accessTokenTtl);
  }

  private async idToken(issuer: string, user: UserRecord, clientId: string, sessionId: string): Promise<string> {
    return this.sign(
      { typ: 'ID', azp: clientId, sid: sessionId, name: user.name, preferred_username: user.username, email: user.email || undefined },
      issuer,
      user.id,
      clientId,
      this.cfg.accessTokenTtl,
    );
  }

  private async sign(claims: Record<string, unknown>, issuer: string, sub: string, aud: string, ttl: number): Promise<string> {
    const { kid, alg, key } = await this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT', kid })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID())
      .sign(key);
  }
}
