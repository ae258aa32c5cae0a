/**
 * Token requests to the Keycloak-compatible token endpoint (`<authUrl>/realms/<realm>/protocol/openid-connect/token`),
 * for `codemie login` and for renewing a stored profile's access token.
 */
import { CliError } from '../errors.js';
import { saveProfile, type Profile } from './profiles.js';

export const NOT_LOGGED_IN = 'not logged in or token expired: run codemie login';

interface TokenResponse {
  access_token: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_expires_in?: number;
}

export function tokenUrl(p: Pick<Profile, 'authUrl' | 'realm'>): string {
  return `${p.authUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(p.realm)}/protocol/openid-connect/token`;
}

/** Posts a grant; answers 400/401 from the IdP become `CliError` with its description (never the form). */
export async function requestToken(p: Pick<Profile, 'authUrl' | 'realm'>, form: Record<string, string | undefined>): Promise<TokenResponse> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined && v !== '') body.set(k, v);
  const url = tokenUrl(p);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const desc = (json.error_description ?? json.error ?? (json.error as { message?: string } | undefined)?.message) as string | undefined;
    if (res.status === 404) throw new CliError(`no token endpoint at ${url} (HTTP 404): check --server and --realm`, 3);
    const what = typeof desc === 'string' ? desc : `HTTP ${res.status}`;
    throw new CliError(`login failed: ${what}`, 1);
  }
  if (typeof json.access_token !== 'string') throw new CliError(`login failed: the token endpoint answered without an access_token`);
  return json as unknown as TokenResponse;
}

function remember(profile: Profile, t: TokenResponse, now = Date.now()): Profile {
  const life = t.expires_in ?? 300;
  return {
    ...profile,
    accessToken: t.access_token,
    accessExpiresAt: now + life * 1000,
    accessRenewAt: now + Math.max(0, life - Math.min(30, life / 2)) * 1000,
    refreshToken: t.refresh_token ?? profile.refreshToken,
    refreshExpiresAt: t.refresh_token ? (t.refresh_expires_in ? now + t.refresh_expires_in * 1000 : undefined) : profile.refreshExpiresAt,
  };
}

/** Stores the tokens of a fresh login into the profile. */
export function withTokens(profile: Profile, t: TokenResponse): Profile {
  return remember(profile, t);
}

/** A valid access token for the profile: the cached one, else renewed (refresh token or client secret) and saved. */
export async function accessToken(name: string, profile: Profile, force = false): Promise<string> {
  const now = Date.now();
  if (!force && profile.accessToken && profile.accessRenewAt && now < profile.accessRenewAt) return profile.accessToken;
  let t: TokenResponse;
  if (profile.grant === 'client_credentials' && profile.clientSecret) {
    t = await requestToken(profile, { grant_type: 'client_credentials', client_id: profile.clientId, client_secret: profile.clientSecret });
  } else if (profile.refreshToken && (!profile.refreshExpiresAt || now < profile.refreshExpiresAt)) {
    try {
      t = await requestToken(profile, { grant_type: 'refresh_token', client_id: profile.clientId, refresh_token: profile.refreshToken });
    } catch (err) {
      if (err instanceof CliError && err.exitCode === 1) throw new CliError(NOT_LOGGED_IN);
      throw err;
    }
  } else {
    throw new CliError(NOT_LOGGED_IN);
  }
  const next = remember(profile, t, now);
  saveProfile(name, next, false);
  return next.accessToken!;
}
