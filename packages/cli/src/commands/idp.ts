/**
 * `codemie idp ...`: manage users, clients and signing keys of the embedded identity
 * provider, directly in the platform's database (same settings as the server: env vars,
 * CODEMIE_CONFIG). Generated passwords and client secrets are printed once.
 *
 * Exit codes: 0 ok, 1 unexpected failure, 2 invalid input, 3 not found, 4 already exists.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';

interface Out {
  json: boolean;
}

const list = (v: string | undefined): string[] | undefined =>
  v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function passwordFrom(opts: { password?: string; passwordStdin?: boolean }): Promise<string | undefined> {
  if (opts.password && opts.passwordStdin) throw new CliError('use either --password or --password-stdin', 2);
  return opts.passwordStdin ? readStdin() : opts.password;
}

type Session = Awaited<ReturnType<typeof import('@codemie-open/server').openIdentityAdmin>>;

/** Opens the identity store, runs `fn`, maps API errors to exit codes, always closes. */
async function withAdmin(fn: (s: Session) => Promise<void>): Promise<void> {
  const server = await import('@codemie-open/server');
  let config;
  try {
    config = server.loadConfig(process.env);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const session = await server.openIdentityAdmin(config);
  try {
    await fn(session);
  } catch (err) {
    if (err instanceof server.ApiError) {
      const code = err.status === 404 ? 3 : err.status === 409 ? 4 : err.status < 500 ? 2 : 1;
      throw new CliError(`${err.message}${err.details ? `: ${String(err.details)}` : ''}`, code);
    }
    throw err;
  } finally {
    await session.close();
  }
}

function print(out: Out, data: unknown, text: string): void {
  process.stdout.write(out.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}

type UserLike = { username: string; email: string; roles: string[]; projects: string[]; adminProjects: string[]; enabled: boolean; serviceAccountClient: string | null };
const userLine = (u: UserLike) =>
  `${u.username}${u.enabled ? '' : ' (disabled)'}  roles=${u.roles.join(',') || '-'}  projects=${u.projects.join(',') || '-'}  admin_projects=${u.adminProjects.join(',') || '-'}${u.email ? `  email=${u.email}` : ''}${u.serviceAccountClient ? `  [service account of ${u.serviceAccountClient}]` : ''}`;

const onceNote = (what: string) => `This ${what} is shown only once: store it now.`;

export function register(program: Command): void {
  const idp = program
    .command('idp')
    .description('manage users, clients and keys of the embedded identity provider (uses the server database)')
    .option('--json', 'machine-readable output');
  const out = (cmd: Command): Out => ({ json: !!cmd.optsWithGlobals().json });

  const user = idp.command('user').description('users of the realm');
  user
    .command('add <username>')
    .description('create a user (a password is generated and printed when none is given)')
    .option('--password <password>', 'password (visible in the process list; prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--email <email>', 'e-mail address')
    .option('--name <name>', 'display name')
    .option('--roles <roles>', 'comma-separated realm roles (admin makes a platform admin)', 'developer')
    .option('--projects <projects>', 'comma-separated projects (applications)', '')
    .option('--admin-projects <projects>', 'comma-separated administered projects (applications_admin)', '')
    .action(async (username: string, opts, cmd: Command) => {
      const password = await passwordFrom(opts);
      await withAdmin(async ({ admin, realm }) => {
        const res = await admin.addUser({
          username,
          password,
          email: opts.email,
          name: opts.name,
          roles: list(opts.roles),
          projects: list(opts.projects),
          adminProjects: list(opts.adminProjects),
        });
        print(
          out(cmd),
          { user: res.user, ...(res.generatedPassword ? { password: res.generatedPassword } : {}) },
          `Created user '${res.user.username}' in realm '${realm}'.` +
            (res.generatedPassword ? `\n  password: ${res.generatedPassword}\n${onceNote('password')}` : ''),
        );
      });
    });

  user
    .command('list')
    .description('list users')
    .action(async (_opts, cmd: Command) => {
      await withAdmin(async ({ admin }) => {
        const users = await admin.listUsers();
        print(out(cmd), users, users.map(userLine).join('\n') || '(no users)');
      });
    });

  user
    .command('set-password <username>')
    .description("set a user's password (generated when none is given); ends the user's sessions")
    .option('--password <password>', 'new password')
    .option('--password-stdin', 'read the new password from standard input')
    .action(async (username: string, opts, cmd: Command) => {
      const password = await passwordFrom(opts);
      await withAdmin(async ({ admin }) => {
        const res = await admin.setPassword(username, password);
        print(
          out(cmd),
          { user: res.user, ...(res.generatedPassword ? { password: res.generatedPassword } : {}) },
          `Password of '${res.user.username}' changed.` + (res.generatedPassword ? `\n  password: ${res.generatedPassword}\n${onceNote('password')}` : ''),
        );
      });
    });

  user
    .command('set-projects <username>')
    .description("replace a user's projects and/or administered projects")
    .option('--projects <projects>', 'comma-separated projects (applications)')
    .option('--admin-projects <projects>', 'comma-separated administered projects (applications_admin)')
    .action(async (username: string, opts, cmd: Command) => {
      if (opts.projects === undefined && opts.adminProjects === undefined) {
        throw new CliError('give --projects and/or --admin-projects', 2);
      }
      await withAdmin(async ({ admin }) => {
        const u = await admin.setProjects(username, list(opts.projects), list(opts.adminProjects));
        print(out(cmd), u, userLine(u));
      });
    });

  user
    .command('set-role <username> <roles>')
    .description("replace a user's realm roles (comma-separated, e.g. admin or developer)")
    .action(async (username: string, roles: string, _opts, cmd: Command) => {
      await withAdmin(async ({ admin }) => {
        const u = await admin.setRoles(username, list(roles) ?? []);
        print(out(cmd), u, userLine(u));
      });
    });

  user
    .command('remove <username>')
    .description('delete a user and its sessions')
    .action(async (username: string, _opts, cmd: Command) => {
      await withAdmin(async ({ admin }) => {
        await admin.removeUser(username);
        print(out(cmd), { removed: username.toLowerCase() }, `Removed user '${username.toLowerCase()}'.`);
      });
    });

  const client = idp.command('client').description('OAuth clients of the realm');
  client
    .command('add <clientId>')
    .description('create a public client (password grant, e.g. for SDKs) or a confidential one (client_credentials; secret printed once)')
    .option('--public', 'public client: no secret, direct access grants on')
    .option('--secret', 'confidential client with a generated secret and a service account')
    .option('--roles <roles>', 'confidential: realm roles of the service account', 'developer')
    .option('--projects <projects>', 'confidential: projects of the service account', '')
    .option('--admin-projects <projects>', 'confidential: administered projects of the service account', '')
    .option('--direct-access', 'confidential: also allow the password grant')
    .action(async (clientId: string, opts, cmd: Command) => {
      if (!!opts.public === !!opts.secret) throw new CliError('give exactly one of --public or --secret', 2);
      await withAdmin(async ({ admin, realm }) => {
        const res = await admin.addClient({
          clientId,
          publicClient: !!opts.public,
          directAccessGrants: opts.public ? true : !!opts.directAccess,
          roles: list(opts.roles),
          projects: list(opts.projects),
          adminProjects: list(opts.adminProjects),
        });
        print(
          out(cmd),
          { client: res.client, ...(res.secret ? { client_secret: res.secret } : {}), ...(res.serviceAccount ? { service_account: res.serviceAccount } : {}) },
          `Created ${res.client.publicClient ? 'public' : 'confidential'} client '${clientId}' in realm '${realm}'.` +
            (res.secret ? `\n  client_id:     ${clientId}\n  client_secret: ${res.secret}\n${onceNote('secret')}` : ''),
        );
      });
    });

  client
    .command('list')
    .description('list clients')
    .action(async (_opts, cmd: Command) => {
      await withAdmin(async ({ admin }) => {
        const clients = await admin.listClients();
        print(
          out(cmd),
          clients,
          clients
            .map((c) => `${c.clientId}  ${c.publicClient ? 'public' : 'confidential'}${c.directAccessGrants ? '  password-grant' : ''}${c.serviceAccounts ? '  service-account' : ''}`)
            .join('\n') || '(no clients)',
        );
      });
    });

  client
    .command('remove <clientId>')
    .description('delete a client, its service account and sessions')
    .action(async (clientId: string, _opts, cmd: Command) => {
      await withAdmin(async ({ admin }) => {
        await admin.removeClient(clientId);
        print(out(cmd), { removed: clientId }, `Removed client '${clientId}'.`);
      });
    });

  client
    .command('rotate-secret <clientId>')
    .description('generate a new secret for a confidential client (the old one stops working)')
    .action(async (clientId: string, _opts, cmd: Command) => {
      await withAdmin(async ({ admin }) => {
        const res = await admin.rotateClientSecret(clientId);
        print(out(cmd), { client: res.client, client_secret: res.secret }, `New secret of '${clientId}':\n  client_secret: ${res.secret}\n${onceNote('secret')}`);
      });
    });

  const key = idp.command('key').description('token signing keys');
  key
    .command('list')
    .description('list signing keys (active, retired-but-published, expired)')
    .action(async (_opts, cmd: Command) => {
      await withAdmin(async ({ keys }) => {
        const all = await keys.list();
        print(
          out(cmd),
          all,
          all.map((k) => `${k.kid}  ${k.alg}  ${k.active ? 'active' : k.published ? 'retired (still published)' : 'retired'}  created=${k.createdAt}`).join('\n') ||
            '(no keys yet: the server creates one on first start)',
        );
      });
    });

  key
    .command('rotate')
    .description('create a new signing key; the previous one stays published until its tokens expire')
    .action(async (_opts, cmd: Command) => {
      await withAdmin(async ({ keys }) => {
        const kid = await keys.rotate();
        print(out(cmd), { kid }, `New active signing key: ${kid}\nRunning servers pick it up within a minute.`);
      });
    });
}
