/**
 * External mode: creating users and setting passwords in Keycloak through its admin REST API, for
 * `POST /v1/admin/users` and `PUT /v1/admin/users/{id}/password`. The server authenticates as a
 * confidential client of the users' realm (client_credentials); its service account needs the
 * realm-management roles `manage-users` and `view-realm` (for realm-role grants).
 * Configured by CODEMIE_KEYCLOAK_ADMIN_URL / _REALM / _CLIENT_ID / _CLIENT_SECRET.
 */
import { ApiError, conflict } from '../api/errors.js';
import type { Config } from '../config/config.js';

export interface KeycloakUserInput {
  username: string;
  email: string;
  password: string;
  name?: string | null;
  realmRoles: string[];
}

export const KEYCLOAK_ADMIN_SETTINGS =
  'CODEMIE_KEYCLOAK_ADMIN_URL, CODEMIE_KEYCLOAK_ADMIN_REALM, CODEMIE_KEYCLOAK_ADMIN_CLIENT_ID and CODEMIE_KEYCLOAK_ADMIN_CLIENT_SECRET';

type KcConfig = Pick<Config, 'keycloakAdminUrl' | 'keycloakAdminRealm' | 'keycloakAdminClientId' | 'keycloakAdminClientSecret'>;

export class KeycloakAdmin {
  private token?: { value: string; until: number };
  private readonly base: string;

  private constructor(
    private readonly cfg: Required<KcConfig>,
    private readonly timeoutMs = 10_000,
  ) {
    this.base = cfg.keycloakAdminUrl.replace(/\/+$/, '');
  }

  /** The client when all four settings are given, else undefined. */
  static fromConfig(cfg: KcConfig): KeycloakAdmin | undefined {
    const { keycloakAdminUrl, keycloakAdminRealm, keycloakAdminClientId, keycloakAdminClientSecret } = cfg;
    if (!keycloakAdminUrl || !keycloakAdminRealm || !keycloakAdminClientId || !keycloakAdminClientSecret) return undefined;
    return new KeycloakAdmin({ keycloakAdminUrl, keycloakAdminRealm, keycloakAdminClientId, keycloakAdminClientSecret });
  }

  get realm(): string {
    return this.cfg.keycloakAdminRealm;
  }

  private unavailable(what: string): ApiError {
    return new ApiError(
      502,
      'Identity provider request failed',
      `Keycloak at ${this.base} ${what}.`,
      `Check ${KEYCLOAK_ADMIN_SETTINGS} and the client's realm-management roles.`,
    );
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    let res: Response;
    try {
      res = await fetch(`${this.base}/realms/${encodeURIComponent(this.realm)}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.cfg.keycloakAdminClientId,
          client_secret: this.cfg.keycloakAdminClientSecret,
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.unavailable(`could not be reached (${(err as Error).message})`);
    }
    if (!res.ok) throw this.unavailable(`refused the admin client's credentials (${res.status})`);
    const body = (await res.json()) as { access_token: string; expires_in?: number };
    this.token = { value: body.access_token, until: Date.now() + Math.max(5, (body.expires_in ?? 60) - 15) * 1000 };
    return body.access_token;
  }

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const token = await this.accessToken();
    try {
      return await fetch(`${this.base}/admin/realms/${encodeURIComponent(this.realm)}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.unavailable(`could not be reached (${(err as Error).message})`);
    }
  }

  /** Creates an enabled user with a password and realm roles; returns its id (the tokens' `sub`). */
  async createUser(u: KeycloakUserInput): Promise<string> {
    const [firstName, ...rest] = (u.name ?? '').trim().split(/\s+/).filter(Boolean);
    const res = await this.call('POST', '/users', {
      username: u.username,
      email: u.email,
      emailVerified: true,
      enabled: true,
      ...(firstName ? { firstName, lastName: rest.join(' ') || undefined } : {}),
      credentials: [{ type: 'password', value: u.password, temporary: false }],
    });
    if (res.status === 409) {
      const text = await res.text();
      throw /email/i.test(text) ? conflict('Email already registered') : conflict('Username already taken');
    }
    if (res.status === 400) {
      const text = await res.text();
      throw new ApiError(400, 'Invalid user', `Keycloak refused the user: ${text.slice(0, 300)}`);
    }
    if (res.status !== 201) throw this.unavailable(`answered ${res.status} to the user creation`);
    const id = res.headers.get('location')?.split('/').pop();
    if (!id) throw this.unavailable('did not say which user it created');
    for (const role of u.realmRoles) {
      const r = await this.call('GET', `/roles/${encodeURIComponent(role)}`);
      if (r.status === 404) continue; // a realm without that role: nothing to grant
      if (!r.ok) throw this.unavailable(`answered ${r.status} to the role lookup of '${role}'`);
      const rep = (await r.json()) as { id: string; name: string };
      const g = await this.call('POST', `/users/${id}/role-mappings/realm`, [{ id: rep.id, name: rep.name }]);
      if (!g.ok) throw this.unavailable(`answered ${g.status} to the grant of '${role}'`);
    }
    return id;
  }

  async setPassword(userId: string, password: string): Promise<void> {
    const res = await this.call('PUT', `/users/${encodeURIComponent(userId)}/reset-password`, { type: 'password', value: password, temporary: false });
    if (res.status === 404) throw new ApiError(404, 'User not found', `Keycloak has no user '${userId}' in realm '${this.realm}'.`);
    if (res.status === 400) throw new ApiError(400, 'Invalid password', `Keycloak refused the password: ${(await res.text()).slice(0, 300)}`);
    if (!res.ok) throw this.unavailable(`answered ${res.status} to the password change`);
  }
}
