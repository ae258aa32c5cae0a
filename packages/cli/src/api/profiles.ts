/**
 * Server profiles of `codemie login`: where the platform is and what renews its token. Stored in
 * `$CODEMIE_HOME/profiles.json` (default `~/.codemie/profiles.json`), file mode 0600 (directory 0700).
 * A profile keeps the refresh token (password grant) or the client secret (client_credentials), never the
 * user's password; the last access token is cached with its expiry so `codemie token` stays fast.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from '../errors.js';

export interface Profile {
  server: string;
  authUrl: string;
  realm: string;
  clientId: string;
  grant: 'password' | 'client_credentials';
  username?: string;
  /** client_credentials only */
  clientSecret?: string;
  refreshToken?: string;
  /** epoch ms after which the refresh token is not tried */
  refreshExpiresAt?: number;
  accessToken?: string;
  /** epoch ms when the access token expires */
  accessExpiresAt?: number;
  /** epoch ms after which it is renewed (30 s, or half its lifetime, before it expires) */
  accessRenewAt?: number;
}

export interface ProfilesFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';

export function codemieHome(): string {
  return process.env.CODEMIE_HOME || path.join(os.homedir(), '.codemie');
}

export function profilesPath(): string {
  return path.join(codemieHome(), 'profiles.json');
}

export function readProfiles(): ProfilesFile {
  const file = profilesPath();
  if (!existsSync(file)) return { profiles: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as ProfilesFile;
    return { current: parsed.current, profiles: parsed.profiles ?? {} };
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export function writeProfiles(data: ProfilesFile): void {
  const dir = codemieHome();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = profilesPath();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The named profile (default: the one last logged in with, or CODEMIE_PROFILE). */
export function loadProfile(name?: string): { name: string; profile: Profile } {
  const data = readProfiles();
  const wanted = name || process.env.CODEMIE_PROFILE || data.current || DEFAULT_PROFILE;
  const profile = data.profiles[wanted];
  if (!profile) {
    throw new CliError(
      name ? `no profile "${wanted}": run codemie login --profile ${wanted}` : 'not logged in: run codemie login',
      1,
    );
  }
  return { name: wanted, profile };
}

export function saveProfile(name: string, profile: Profile, makeCurrent = true): void {
  const data = readProfiles();
  data.profiles[name] = profile;
  if (makeCurrent) data.current = name;
  writeProfiles(data);
}
