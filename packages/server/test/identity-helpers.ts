/**
 * Real tokens for test suites: users and clients are created in the embedded IdP of a
 * test platform and tokens come from its own token endpoint (through inject(), no socket).
 *
 *   const p = await startTestPlatform();
 *   await createUser(p, { username: 'alice', projects: ['demo'] });
 *   const token = await passwordToken(p, 'alice');
 *   await p.app.inject({ url: '/v1/user', headers: authHeaders(token) });
 */
import type { Platform } from '../src/platform.js';
import type { UserRecord } from '../src/identity/repo.js';
import type { UserInput } from '../src/identity/admin.js';
import { TEST_ADMIN_PASSWORD } from './helpers.js';

export const DEFAULT_TEST_PASSWORD = 'test-password-123';

/** Like `codemie idp user add`; the password defaults to DEFAULT_TEST_PASSWORD. */
export type TestUserInput = UserInput;

export async function createUser(platform: Platform, input: TestUserInput): Promise<UserRecord> {
  const { user } = await platform.services.identity.admin.addUser({
    ...input,
    password: input.password ?? DEFAULT_TEST_PASSWORD,
    email: input.email ?? `${input.username}@example.com`,
  });
  return user;
}

/** Creates a confidential client; returns its (only-once) secret. */
export async function createClient(
  platform: Platform,
  input: { clientId: string; roles?: string[]; projects?: string[]; adminProjects?: string[] },
): Promise<string> {
  const { secret } = await platform.services.identity.admin.addClient({ ...input, publicClient: false });
  return secret!;
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  [k: string]: unknown;
}

async function tokenRequest(platform: Platform, form: Record<string, string>): Promise<TokenSet> {
  const realm = platform.infra.config.idpRealm;
  const res = await platform.app.inject({
    method: 'POST',
    url: `/auth/realms/${realm}/protocol/openid-connect/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
  return res.json() as TokenSet;
}

/** Password grant with the public client `codemie-sdk`; returns the access token. */
export async function passwordToken(platform: Platform, username: string, password = DEFAULT_TEST_PASSWORD): Promise<string> {
  return (await passwordTokens(platform, username, password)).access_token;
}

export function passwordTokens(platform: Platform, username: string, password = DEFAULT_TEST_PASSWORD): Promise<TokenSet> {
  return tokenRequest(platform, { grant_type: 'password', client_id: 'codemie-sdk', username, password });
}

/** Token of the bootstrap admin (realm role admin). */
export function adminToken(platform: Platform): Promise<string> {
  return passwordToken(platform, 'admin', TEST_ADMIN_PASSWORD);
}

/** client_credentials grant of a confidential client. */
export async function clientToken(platform: Platform, clientId: string, clientSecret: string): Promise<string> {
  return (await tokenRequest(platform, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })).access_token;
}

export function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
