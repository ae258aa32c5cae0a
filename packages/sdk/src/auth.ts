/**
 * Token handling: OAuth2 grants against a Keycloak-compatible token endpoint
 * (`<auth_server_url>/realms/<realm>/protocol/openid-connect/token`, form-encoded), a cached token that is
 * renewed shortly before it expires (with the refresh token when there is one, else by logging in again),
 * and a forced re-login the HTTP layer uses once after a 401.
 */
import { CodeMieAuthError, CodeMieError, parseErrorBody } from './errors.js';
import type { FetchLike } from './tls.js';

export type TokenSource = string | (() => string | Promise<string>);

export interface TokenProvider {
  /** The bearer token to send, or null for none. */
  getToken(): Promise<string | null>;
  /**
   * Called after the API rejected `rejectedToken` with 401: obtains a new token (unless another request
   * already did) and resolves true, or false when this provider cannot re-authenticate.
   */
  reauthenticate(rejectedToken?: string | null): Promise<boolean>;
}

export interface KeycloakSettings {
  authServerUrl: string;
  realm: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  externalToken?: TokenSource;
  externalIdp?: string;
  scope?: string;
  getFetch: () => Promise<FetchLike>;
  now?: () => number;
}

interface TokenState {
  accessToken: string;
  /** epoch ms after which the access token is renewed (already includes the safety margin) */
  renewAt: number;
  refreshToken: string | null;
  /** epoch ms after which the refresh token is not tried; Infinity when the server did not say */
  refreshRenewAt: number;
}

/** Seconds of validity left at which a token is renewed: 30 s, or half the lifetime of short-lived tokens. */
function margin(lifetimeSeconds: number): number {
  return Math.min(30, lifetimeSeconds / 2);
}

export const DEFAULT_PASSWORD_CLIENT_ID = 'codemie-sdk';

export class KeycloakTokenProvider implements TokenProvider {
  private state: TokenState | null = null;
  private inflight: Promise<string> | null = null;
  private readonly now: () => number;
  readonly tokenUrl: string;
  /** How many token requests were made, by grant (for diagnostics and tests). */
  readonly stats = { password: 0, client_credentials: 0, refresh_token: 0, token_exchange: 0 };

  constructor(private readonly s: KeycloakSettings) {
    this.now = s.now ?? Date.now;
    const base = s.authServerUrl.replace(/\/+$/, '');
    this.tokenUrl = `${base}/realms/${encodeURIComponent(s.realm)}/protocol/openid-connect/token`;
  }

  get grant(): 'password' | 'client_credentials' | 'token_exchange' {
    if (this.s.externalToken !== undefined && this.s.externalIdp) return 'token_exchange';
    if (this.s.username !== undefined && this.s.password !== undefined) return 'password';
    return 'client_credentials';
  }

  async getToken(): Promise<string> {
    const st = this.state;
    const t = this.now();
    if (st && t < st.renewAt) return st.accessToken;
    return this.single(async () => {
      const cur = this.state;
      if (cur && this.now() < cur.renewAt) return cur.accessToken;
      if (cur?.refreshToken && this.now() < cur.refreshRenewAt) {
        try {
          return await this.request('refresh_token');
        } catch (err) {
          // an expired or revoked refresh token (invalid_grant): log in again from the credentials
          if (!(err instanceof CodeMieAuthError)) throw err;
        }
      }
      return this.request(this.grant);
    });
  }

  async reauthenticate(rejectedToken?: string | null): Promise<boolean> {
    if (this.inflight) {
      // a login or refresh is already under way: its token is the new one
      await this.inflight;
      return true;
    }
    if (this.state && rejectedToken && this.state.accessToken !== rejectedToken) return true; // renewed meanwhile
    this.state = null;
    await this.single(() => this.request(this.grant));
    return true;
  }

  /** Forgets the cached token (next request logs in again). */
  clear(): void {
    this.state = null;
  }

  private single(fn: () => Promise<string>): Promise<string> {
    if (!this.inflight) {
      this.inflight = fn().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async form(grant: keyof KeycloakTokenProvider['stats']): Promise<URLSearchParams> {
    const s = this.s;
    const f = new URLSearchParams();
    const put = (k: string, v: string | undefined | null) => {
      if (v !== undefined && v !== null && v !== '') f.set(k, v);
    };
    switch (grant) {
      case 'password':
        put('grant_type', 'password');
        put('client_id', s.clientId || DEFAULT_PASSWORD_CLIENT_ID);
        put('client_secret', s.clientSecret);
        put('username', s.username);
        put('password', s.password);
        break;
      case 'client_credentials':
        put('grant_type', 'client_credentials');
        put('client_id', s.clientId);
        put('client_secret', s.clientSecret);
        break;
      case 'refresh_token':
        put('grant_type', 'refresh_token');
        put('client_id', s.clientId || (this.grant === 'password' ? DEFAULT_PASSWORD_CLIENT_ID : undefined));
        put('client_secret', s.clientSecret);
        put('refresh_token', this.state?.refreshToken);
        break;
      case 'token_exchange': {
        const ext = s.externalToken;
        const subject = typeof ext === 'function' ? await ext() : ext;
        put('grant_type', 'urn:ietf:params:oauth:grant-type:token-exchange');
        put('client_id', s.clientId);
        put('client_secret', s.clientSecret);
        put('subject_token', subject);
        put('subject_token_type', 'urn:ietf:params:oauth:token-type:access_token');
        put('subject_issuer', s.externalIdp);
        put('requested_token_type', 'urn:ietf:params:oauth:token-type:access_token');
        break;
      }
    }
    put('scope', s.scope);
    return f;
  }

  private async request(grant: keyof KeycloakTokenProvider['stats']): Promise<string> {
    const body = await this.form(grant);
    const fetchImpl = await this.s.getFetch();
    this.stats[grant]++;
    const started = this.now();
    let res: Response;
    try {
      res = await fetchImpl(this.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: body.toString(),
      });
    } catch (err) {
      throw new CodeMieError(`Token request to ${this.tokenUrl} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!res.ok) {
      const p = parseErrorBody(json, `Authentication failed (${res.status})`);
      throw new CodeMieAuthError({
        status: res.status,
        ...p,
        body: json,
        url: this.tokenUrl,
        method: 'POST',
        requestId: res.headers.get('x-request-id'),
      });
    }
    const data = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    const access = data.access_token;
    if (typeof access !== 'string' || access === '') {
      throw new CodeMieAuthError({
        status: res.status,
        message: 'Token endpoint response has no access_token',
        body: json,
        url: this.tokenUrl,
        method: 'POST',
      });
    }
    const expiresIn = Number(data.expires_in ?? 300);
    const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300;
    const refresh = typeof data.refresh_token === 'string' && data.refresh_token !== '' ? data.refresh_token : null;
    const refreshIn = Number(data.refresh_expires_in);
    this.state = {
      accessToken: access,
      renewAt: started + (lifetime - margin(lifetime)) * 1000,
      refreshToken: refresh,
      // Keycloak sends refresh_expires_in: 0 for offline tokens (no expiry)
      refreshRenewAt:
        refresh && Number.isFinite(refreshIn) && refreshIn > 0
          ? started + (refreshIn - margin(refreshIn)) * 1000
          : Infinity,
    };
    return access;
  }
}

/** A fixed token (`jwt_token`) or a callback that returns the current one. */
export class StaticTokenProvider implements TokenProvider {
  constructor(private readonly source: TokenSource) {}
  async getToken(): Promise<string> {
    return typeof this.source === 'function' ? await this.source() : this.source;
  }
  async reauthenticate(): Promise<boolean> {
    // a callback may hand out a fresh token; a fixed string cannot change
    return typeof this.source === 'function';
  }
}

export class NoTokenProvider implements TokenProvider {
  async getToken(): Promise<null> {
    return null;
  }
  async reauthenticate(): Promise<boolean> {
    return false;
  }
}
