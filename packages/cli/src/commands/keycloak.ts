/**
 * `codemie keycloak ...`: onboard CodeMie onto a real Keycloak (clients, claim mappers,
 * roles, users) through its admin REST API. See docs/keycloak.md.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import {
  connect,
  createSdkClient,
  createServiceClient,
  createUser,
  deleteClient,
  explain,
  listClients,
  rotateSecret,
  ROLES,
  type Admin,
  type Connection,
  type Role,
} from '../keycloak/onboard.js';

interface CommonOptions {
  url?: string;
  realm?: string;
  createRealm?: boolean;
  adminUser?: string;
  adminPassword?: string;
  json?: boolean;
}

function common(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'Keycloak base URL (KEYCLOAK_URL)')
    .option('--realm <realm>', 'realm to onboard (KEYCLOAK_REALM, default codemie)')
    .option('--create-realm', 'create the realm if it does not exist')
    .option('--admin-user <user>', 'admin of the master realm (KEYCLOAK_ADMIN_USER, default admin)')
    .option('--admin-password <password>', 'its password (KEYCLOAK_ADMIN_PASSWORD)')
    .option('--json', 'print JSON');
}

function connection(opts: CommonOptions): Connection {
  const url = opts.url ?? process.env.KEYCLOAK_URL;
  if (!url) throw new CliError('no Keycloak URL: pass --url or set KEYCLOAK_URL');
  const adminPassword = opts.adminPassword ?? process.env.KEYCLOAK_ADMIN_PASSWORD;
  if (!adminPassword) throw new CliError('no admin password: pass --admin-password or set KEYCLOAK_ADMIN_PASSWORD');
  return {
    url,
    realm: opts.realm ?? process.env.KEYCLOAK_REALM ?? 'codemie',
    adminUser: opts.adminUser ?? process.env.KEYCLOAK_ADMIN_USER ?? 'admin',
    adminPassword,
    createRealm: opts.createRealm === true,
  };
}

/** Connects, runs `fn`, prints notes to stderr, and maps failures to one-line errors. */
async function withAdmin<T>(opts: CommonOptions, fn: (a: Admin) => Promise<T>): Promise<T> {
  const conn = connection(opts);
  let admin: Admin | undefined;
  try {
    admin = await connect(conn);
    return await fn(admin);
  } catch (err) {
    throw explain(err, conn);
  } finally {
    if (admin && !opts.json) for (const note of admin.notes) process.stderr.write(`  ${note}\n`);
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

function parseRole(value: string): Role {
  if (!ROLES.includes(value as Role)) throw new CliError(`--role must be one of ${ROLES.join(', ')} (got "${value}")`);
  return value as Role;
}

function out(opts: CommonOptions, json: unknown, lines: string[]): void {
  process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${lines.join('\n')}\n`);
}

interface IdentityFlags {
  project: string[];
  adminProject?: string[];
  role: string;
  email?: string;
  firstName?: string;
  lastName?: string;
}

function identityOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--project <project>', 'CodeMie project (repeatable or comma-separated); sets `applications`', collect)
    .option('--admin-project <project>', 'project this identity administers; sets `applications_admin`', collect)
    .option('--role <role>', `realm role: ${ROLES.join(' | ')}`, 'developer')
    .option('--email <email>', 'email')
    .option('--first-name <name>', 'first name')
    .option('--last-name <name>', 'last name');
}

function identity(o: IdentityFlags) {
  return {
    projects: o.project,
    adminProjects: o.adminProject ?? [],
    role: parseRole(o.role),
    email: o.email,
    firstName: o.firstName,
    lastName: o.lastName,
  };
}

export function register(program: Command): void {
  const kc = program
    .command('keycloak')
    .description('onboard CodeMie onto a Keycloak realm (clients, claim mappers, roles, users)');

  common(
    kc
      .command('create-sdk-client')
      .description('create or update the public client the SDK/CLI use for the password grant')
      .option('--client-id <clientId>', 'client id', 'codemie-sdk')
      .option('--standard-flow', 'also enable the browser (authorization code + PKCE) flow')
      .option('--redirect-uri <uri>', 'redirect URI for the standard flow (repeatable)', collect),
  ).action(async (o: CommonOptions & { clientId: string; standardFlow?: boolean; redirectUri?: string[] }) => {
    const r = await withAdmin(o, (a) =>
      createSdkClient(a, { clientId: o.clientId, standardFlow: o.standardFlow, redirectUris: o.redirectUri }),
    );
    out(o, r, [
      `${r.outcome === 'created' ? 'created' : 'updated existing'} public client ${r.client_id} in realm ${r.realm}`,
      `token endpoint: ${r.token_url}`,
    ]);
  });

  common(
    identityOptions(
      kc
        .command('create-service-client')
        .description('create or update a confidential client with a service account (client_credentials grant)')
        .argument('<clientId>', 'client id'),
    ),
  ).action(async (clientId: string, o: CommonOptions & IdentityFlags) => {
    const r = await withAdmin(o, (a) => createServiceClient(a, { clientId, ...identity(o) }));
    const lines = [
      `${r.outcome === 'created' ? 'created' : 'updated existing'} service client ${r.client_id} in realm ${r.realm}`,
      `  service account: ${r.service_account}  role: ${r.role}  projects: ${r.projects.join(', ')}` +
        (r.admin_projects.length ? `  admin of: ${r.admin_projects.join(', ')}` : ''),
      `client_id=${r.client_id}`,
    ];
    if (r.client_secret) lines.push(`client_secret=${r.client_secret}`, '(the secret is shown only now; keep it safe)');
    else lines.push('client_secret unchanged (not shown; use `codemie keycloak rotate-secret` for a new one)');
    lines.push(`token endpoint: ${r.token_url}`);
    out(o, r, lines);
  });

  common(
    identityOptions(
      kc
        .command('create-user')
        .description('create or update a user (for the password grant) with CodeMie projects and role')
        .argument('<username>', 'username')
        .option('--password <password>', 'password (required when creating; sets it when updating)'),
    ),
  ).action(async (username: string, o: CommonOptions & IdentityFlags & { password?: string }) => {
    const r = await withAdmin(o, (a) => createUser(a, { username, password: o.password, ...identity(o) }));
    out(o, r, [
      `${r.outcome === 'created' ? 'created' : 'updated existing'} user ${r.username} in realm ${r.realm}` +
        `  role: ${r.role}  projects: ${r.projects.join(', ')}` +
        (r.admin_projects.length ? `  admin of: ${r.admin_projects.join(', ')}` : '') +
        (r.outcome === 'updated' ? (r.password_set ? '  (password reset)' : '  (password unchanged)') : ''),
    ]);
  });

  common(kc.command('list').description('list the clients created by these commands')).action(async (o: CommonOptions) => {
    const rows = await withAdmin(o, (a) => listClients(a));
    const lines = rows.length
      ? rows.map(
          (r) =>
            `${r.client_id}  ${r.kind}${r.enabled ? '' : ' (disabled)'}` +
            (r.service_account ? `  ${r.service_account}  roles: ${r.roles?.join(',') || '-'}  projects: ${r.projects?.join(',') || '-'}` : ''),
        )
      : ['no CodeMie clients in this realm'];
    out(o, rows, lines);
  });

  common(kc.command('delete').description('delete a client (and its service account)').argument('<clientId>')).action(
    async (clientId: string, o: CommonOptions) => {
      const realm = await withAdmin(o, async (a) => {
        await deleteClient(a, clientId);
        return a.realm;
      });
      out(o, { client_id: clientId, realm, deleted: true }, [`deleted client ${clientId} from realm ${realm}`]);
    },
  );

  common(
    kc.command('rotate-secret').description('issue a new client secret (the old one stops working)').argument('<clientId>'),
  ).action(async (clientId: string, o: CommonOptions) => {
    const secret = await withAdmin(o, (a) => rotateSecret(a, clientId));
    out(o, { client_id: clientId, client_secret: secret }, [`client_id=${clientId}`, `client_secret=${secret}`]);
  });
}
