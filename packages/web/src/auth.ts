/**
 * Sign-in with OpenID Connect, authorization code + PKCE (S256), against the issuer the server
 * names at GET /v1/console/config: its own embedded IdP, or a real Keycloak. Tokens are held in
 * memory only (never in localStorage); the PKCE verifier and state live in sessionStorage just
 * for the round trip to the login page. The access token is refreshed before it expires.
 */

export interface ConsoleConfig {
  issuer: string;
  client_id: string;
  scope: string;
  api_base: string;
  embedded_idp: boolean;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  refresh_expires_in?: number;
  id_token?: string;
}

export interface Claims {
  sub: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  realm_access?: { roles?: string[] };
  [k: string]: unknown;
}

const PENDING = 'codemie.console.pkce';
const SIGNED_OUT = 'codemie.console.signed-out';

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function randomString(bytes = 32): string {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return b64url(a);
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

function decodeJwt(token: string): Claims {
  const part = token.split('.')[1] ?? '';
  const json = atob(
    part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '='),
  );
  return JSON.parse(decodeURIComponent(escape(json))) as Claims;
}

/** The console's redirect URI: the page it is served at. */
const redirectUri = () => `${location.origin}/`;

export class Auth {
  private access?: string;
  private refresh?: string;
  private timer?: ReturnType<typeof setTimeout>;
  private listeners = new Set<() => void>();
  config!: ConsoleConfig;
  private endpoints!: Discovery;
  claims?: Claims;
  error?: string;

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  private emit() {
    for (const fn of this.listeners) fn();
  }

  get signedIn(): boolean {
    return !!this.access;
  }
  get token(): string | undefined {
    return this.access;
  }
  get isAdmin(): boolean {
    return !!this.claims?.realm_access?.roles?.includes('admin');
  }

  /** Loads the configuration, completes a sign-in coming back from the login page, or starts one. */
  async start(): Promise<void> {
    const res = await fetch('/v1/console/config');
    if (!res.ok) throw new Error(`console configuration: HTTP ${res.status}`);
    this.config = (await res.json()) as ConsoleConfig;
    const disc = await fetch(`${this.config.issuer}/.well-known/openid-configuration`);
    if (!disc.ok) throw new Error(`OpenID discovery of ${this.config.issuer}: HTTP ${disc.status}`);
    this.endpoints = (await disc.json()) as Discovery;
    const q = new URLSearchParams(location.search);
    if (q.has('code') || q.has('error')) {
      const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; hash: string } | null;
      sessionStorage.removeItem(PENDING);
      history.replaceState(null, '', `/${pending?.hash ?? ''}`);
      if (q.has('error')) {
        this.error = q.get('error_description') ?? q.get('error') ?? 'Sign-in failed';
      } else if (!pending || pending.state !== q.get('state')) {
        this.error = 'Sign-in failed: the answer does not match the request (state). Try again.';
      } else {
        await this.exchange({ grant_type: 'authorization_code', code: q.get('code')!, redirect_uri: redirectUri(), code_verifier: pending.verifier });
        return;
      }
      this.emit();
      return;
    }
    if (!sessionStorage.getItem(SIGNED_OUT)) await this.signIn();
  }

  /** Goes to the identity provider's login page. */
  async signIn(): Promise<void> {
    sessionStorage.removeItem(SIGNED_OUT);
    const verifier = randomString(48);
    const state = randomString(16);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
    const u = new URL(this.endpoints.authorization_endpoint);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('client_id', this.config.client_id);
    u.searchParams.set('redirect_uri', redirectUri());
    u.searchParams.set('scope', this.config.scope);
    u.searchParams.set('state', state);
    u.searchParams.set('code_challenge', await challengeOf(verifier));
    u.searchParams.set('code_challenge_method', 'S256');
    location.assign(u.toString());
  }

  /** The token request in flight, if any: sign-out waits for it, so a refresh cannot sign the user back in. */
  private inflight: Promise<void> | null = null;

  private exchange(form: Record<string, string>): Promise<void> {
    const p = this.doExchange(form).finally(() => {
      if (this.inflight === p) this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  private async doExchange(form: Record<string, string>): Promise<void> {
    const res = await fetch(this.endpoints.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, client_id: this.config.client_id }),
    });
    const body = (await res.json().catch(() => ({}))) as TokenResponse & { error_description?: string; error?: string };
    if (!res.ok) {
      this.clear();
      this.error = `Sign-in failed: ${body.error_description ?? body.error ?? res.status}`;
      this.emit();
      return;
    }
    this.access = body.access_token;
    if (body.refresh_token) this.refresh = body.refresh_token;
    this.claims = decodeJwt(body.access_token);
    this.error = undefined;
    clearTimeout(this.timer);
    // Refresh 30 s before expiry (at least 5 s from now).
    if (this.refresh) this.timer = setTimeout(() => void this.refreshNow(), Math.max(5, body.expires_in - 30) * 1000);
    this.emit();
  }

  /** Swaps the refresh token for new tokens; false when the session is gone. */
  async refreshNow(): Promise<boolean> {
    // One refresh at a time: the IdP rotates refresh tokens, and a reused one ends the whole session.
    if (this.inflight) {
      await this.inflight.catch(() => undefined);
      return this.signedIn;
    }
    if (!this.refresh) return false;
    await this.exchange({ grant_type: 'refresh_token', refresh_token: this.refresh });
    return this.signedIn;
  }

  private clear() {
    clearTimeout(this.timer);
    this.access = undefined;
    this.refresh = undefined;
    this.claims = undefined;
  }

  /** Ends the session at the identity provider and forgets the tokens. */
  async signOut(): Promise<void> {
    await this.inflight?.catch(() => undefined);
    const refresh = this.refresh;
    this.clear();
    sessionStorage.setItem(SIGNED_OUT, '1');
    if (refresh && this.endpoints.end_session_endpoint) {
      await fetch(this.endpoints.end_session_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: this.config.client_id, refresh_token: refresh }),
      }).catch(() => undefined);
    }
    this.emit();
  }
}

export const auth = new Auth();
