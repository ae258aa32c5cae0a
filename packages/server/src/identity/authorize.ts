/**
 * The authorization-code grant with PKCE (RFC 7636, S256 only) of the embedded IdP, on Keycloak's
 * paths: GET .../protocol/openid-connect/auth shows a login page, POST of that page checks the
 * password and redirects to the client's redirect_uri with a one-time code; the token endpoint
 * exchanges the code (grant_type=authorization_code, code_verifier) for tokens.
 *
 * Only the console's public client (config.consoleClientId) may use it, and only with a redirect
 * URI of this server's console (`<base>/`) or one listed in CODEMIE_CONSOLE_REDIRECT_URIS (exact
 * match). Codes live in the `settings` table for 60 s (so any process of a scaled-out install can
 * redeem them) as sha256 hashes, and are deleted on first use.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { generateSecret, sha256 } from './secrets.js';
import { OAuthError } from './tokens.js';

export const CODE_TTL_SECONDS = 60;
const KEY_PREFIX = 'identity.authcode.';

export interface CodeGrant {
  userId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  sessionId: string;
  expiresAt: string;
}

/** The OAuth parameters of an authorization request (query of GET, hidden fields of the POST). */
export interface AuthorizeRequest {
  response_type?: string;
  client_id?: string;
  redirect_uri?: string;
  state?: string;
  scope?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  nonce?: string;
}

export const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method', 'nonce'] as const;

export class AuthCodes {
  constructor(private readonly db: Kysely<Database>) {}

  async create(grant: Omit<CodeGrant, 'expiresAt'>): Promise<string> {
    const code = generateSecret();
    const value: CodeGrant = { ...grant, expiresAt: new Date(Date.now() + CODE_TTL_SECONDS * 1000).toISOString() };
    await this.db
      .insertInto('settings')
      .values({ key: KEY_PREFIX + sha256(code), value: toJson(value), update_date: new Date().toISOString() })
      .execute();
    return code;
  }

  /** The grant of a code, removed so it cannot be used again; undefined when unknown, used or expired. */
  async redeem(code: string): Promise<CodeGrant | undefined> {
    const key = KEY_PREFIX + sha256(code);
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    if (!row) return undefined;
    const res = await this.db.deleteFrom('settings').where('key', '=', key).executeTakeFirst();
    if (Number(res.numDeletedRows ?? 0) === 0) return undefined; // another request redeemed it first
    const grant = fromJson<CodeGrant | undefined>(row.value, undefined);
    if (!grant || Date.parse(grant.expiresAt) <= Date.now()) return undefined;
    return grant;
  }

  /** Drops expired codes (never redeemed). */
  async purge(): Promise<void> {
    const rows = await this.db.selectFrom('settings').select(['key', 'value']).where('key', 'like', `${KEY_PREFIX}%`).execute();
    const now = Date.now();
    const stale = rows.filter((r) => Date.parse(fromJson<CodeGrant>(r.value, { expiresAt: '' } as CodeGrant).expiresAt || '0') <= now).map((r) => r.key);
    if (stale.length) await this.db.deleteFrom('settings').where('key', 'in', stale).execute();
  }
}

/** PKCE S256: base64url(sha256(verifier)) must equal the challenge. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}

/** The redirect URIs the console client may use, for a server reached at `base`. */
export function allowedRedirects(base: string, extra: string[]): string[] {
  return [`${base}/`, ...extra];
}

/**
 * Checks an authorization request. A bad client or redirect URI throws (shown as an error page:
 * never redirect to an unchecked URI); other problems are returned as the OAuth error to send
 * back to the redirect URI.
 */
export function checkAuthorizeRequest(p: AuthorizeRequest, consoleClientId: string, redirects: string[]): { error: string; description: string } | null {
  if (!p.client_id || p.client_id !== consoleClientId) throw new OAuthError(400, 'invalid_request', 'Client not found.');
  if (!p.redirect_uri || !redirects.includes(p.redirect_uri)) throw new OAuthError(400, 'invalid_request', 'Invalid parameter: redirect_uri');
  if (p.response_type !== 'code')
    return { error: 'unsupported_response_type', description: 'Client is not allowed to initiate browser login with given response_type.' };
  if (!p.code_challenge) return { error: 'invalid_request', description: 'Missing parameter: code_challenge' };
  if ((p.code_challenge_method ?? 'plain') !== 'S256')
    return { error: 'invalid_request', description: 'Invalid parameter: code challenge method is not configured one' };
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(p.code_challenge)) return { error: 'invalid_request', description: 'Invalid parameter: code_challenge' };
  return null;
}

/** `uri` with OAuth response parameters appended to its query. */
export function withParams(uri: string, params: Record<string, string | undefined>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The login page: labelled Username and Password fields and a "Sign in" button; the OAuth request rides along hidden. */
export function loginPage(opts: { action: string; realm: string; params: AuthorizeRequest; username?: string; error?: string }): string {
  const hidden = AUTHORIZE_PARAMS.filter((k) => opts.params[k] !== undefined)
    .map((k) => `<input type="hidden" name="${k}" value="${esc(opts.params[k]!)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in to CodeMie</title>
  <style>
    body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; display: flex; min-height: 100vh; align-items: center; justify-content: center; }
    main { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); width: min(22rem, 90vw); }
    h1 { font-size: 1.3rem; margin: 0 0 1.2rem; }
    label { display: block; margin: .8rem 0 .3rem; font-weight: 600; }
    input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .55rem; font-size: 1rem; border: 1px solid #bbb; border-radius: 4px; }
    button { margin-top: 1.3rem; width: 100%; padding: .65rem; font-size: 1rem; background: #1f5eff; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
    .error { background: #fde8e8; color: #8a1c1c; padding: .6rem; border-radius: 4px; }
    .realm { color: #666; font-size: .85rem; }
  </style>
</head>
<body>
  <main>
    <h1>Sign in to CodeMie</h1>
    <p class="realm">Realm ${esc(opts.realm)}</p>
    ${opts.error ? `<p class="error" role="alert">${esc(opts.error)}</p>` : ''}
    <form method="post" action="${esc(opts.action)}">
      ${hidden}
      <label for="username">Username</label>
      <input id="username" name="username" type="text" autocomplete="username" autofocus required value="${esc(opts.username ?? '')}">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
    </form>
  </main>
</body>
</html>
`;
}

export function errorPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head><body style="font-family:system-ui,sans-serif;padding:2rem"><h1>We are sorry...</h1><p role="alert">${esc(message)}</p></body></html>\n`;
}
