/**
 * First start of the embedded IdP: realm key, user `admin` (realm role admin, project
 * "demo") and the public client `codemie-sdk` (direct access grants on). The settings row
 * `identity.bootstrap.<realm>` is the once-guard; it is written in the same transaction as
 * what it guards, so concurrent first starts (several processes on one PostgreSQL) create
 * everything exactly once, and later starts create nothing.
 */
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { SettingsRepo } from '../store/settings.js';
import { IdentityRepo } from './repo.js';
import type { MembershipStore } from '../projects/memberships.js';
import { newSigningKeyRow } from './keys.js';
import { generatePassword, hashSecret } from './secrets.js';

export const BOOTSTRAP_ADMIN = 'admin';
export const BOOTSTRAP_CLIENT = 'codemie-sdk';

export interface BootstrapOptions {
  realm: string;
  scryptN: number;
  adminPassword?: string;
  adminRole: string;
  /** Where the generated admin password is printed (once). */
  out?: Writable;
  /** Base URL for the printed hint. */
  publicUrl: string;
  /** Where the admin's membership of `demo` is written. */
  memberships?: MembershipStore;
}

export interface BootstrapResult {
  created: boolean;
  generatedPassword?: string;
}

export async function bootstrapIdentity(db: Kysely<Database>, opts: BootstrapOptions): Promise<BootstrapResult> {
  const guard = `identity.bootstrap.${opts.realm}`;
  if (await new SettingsRepo(db).get(guard)) return { created: false };
  const generatedPassword = opts.adminPassword ? undefined : generatePassword();
  const passwordHash = await hashSecret(opts.adminPassword ?? generatedPassword!, opts.scryptN);
  const key = await newSigningKeyRow();
  const created = await db.transaction().execute(async (trx) => {
    if (!(await new SettingsRepo(trx).setIfAbsent(guard, { at: new Date().toISOString(), admin: BOOTSTRAP_ADMIN }))) return false;
    const repo = new IdentityRepo(trx, opts.memberships?.on(trx));
    const active = await trx.selectFrom('idp_signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst();
    if (!active) await trx.insertInto('idp_signing_keys').values(key).execute();
    if (!(await repo.userByUsername(opts.realm, BOOTSTRAP_ADMIN))) {
      await repo.insertUser({
        realm: opts.realm,
        username: BOOTSTRAP_ADMIN,
        name: 'Administrator',
        passwordHash,
        roles: [opts.adminRole, 'developer'],
        projects: ['demo'],
        adminProjects: [],
      });
    }
    if (!(await repo.clientById(opts.realm, BOOTSTRAP_CLIENT))) {
      await repo.insertClient({
        realm: opts.realm,
        clientId: BOOTSTRAP_CLIENT,
        publicClient: true,
        secretHash: null,
        directAccessGrants: true,
        serviceAccounts: false,
      });
    }
    return true;
  });
  if (created && generatedPassword) {
    const line = '='.repeat(72);
    (opts.out ?? process.stdout).write(
      `${line}\n` +
        `CodeMie embedded identity provider: created user '${BOOTSTRAP_ADMIN}' in realm '${opts.realm}'.\n` +
        `  username: ${BOOTSTRAP_ADMIN}\n` +
        `  password: ${generatedPassword}\n` +
        `This password is shown ONLY ONCE. Store it now; change it with\n` +
        `  codemie idp user set-password ${BOOTSTRAP_ADMIN}\n` +
        `(set CODEMIE_ADMIN_PASSWORD before the first start to choose it yourself).\n` +
        `Get a token: curl -d grant_type=password -d client_id=${BOOTSTRAP_CLIENT} -d username=${BOOTSTRAP_ADMIN} -d password=... \\\n` +
        `  ${opts.publicUrl}/auth/realms/${opts.realm}/protocol/openid-connect/token\n` +
        `${line}\n`,
    );
  }
  return { created, generatedPassword: created ? generatedPassword : undefined };
}
