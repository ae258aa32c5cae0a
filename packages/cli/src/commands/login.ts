import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { action } from '../api/client.js';
import { printJson, wantsJson } from '../api/output.js';
import { DEFAULT_PROFILE, loadProfile, profilesPath, readProfiles, saveProfile, type Profile } from '../api/profiles.js';
import { accessToken, requestToken, withTokens } from '../api/tokens.js';

interface LoginOptions {
  server: string;
  authUrl?: string;
  realm: string;
  clientId: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  clientSecret?: string;
  profile?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * `codemie login` (password grant, or client_credentials with --client-secret) stores a server profile;
 * `codemie token` prints a valid access token of it (renewing it when needed).
 */
export function register(program: Command): void {
  program
    .command('login')
    .description('log in to a CodeMie server and store the profile (in $CODEMIE_HOME or ~/.codemie/profiles.json)')
    .option('--server <url>', 'server URL', process.env.CODEMIE_SERVER ?? 'http://127.0.0.1:8080')
    .option('--auth-url <url>', 'identity provider base URL (default <server>/auth)')
    .option('--realm <realm>', 'realm', 'codemie')
    .option('--client-id <id>', 'OAuth2 client', 'codemie-sdk')
    .option('--username <user>', 'user name (password grant)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--password <password>', 'password (prefer --password-stdin: command lines are visible to other users)')
    .option('--client-secret <secret>', 'client secret: client_credentials grant (service account)')
    .option('--profile <name>', 'profile name', DEFAULT_PROFILE)
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: LoginOptions, cmd: Command) => {
        let server: string;
        try {
          server = new URL(opts.server).toString().replace(/\/+$/, '');
        } catch {
          throw new CliError(`--server is not a URL: ${opts.server}`, 2);
        }
        const authUrl = (opts.authUrl ?? `${server}/auth`).replace(/\/+$/, '');
        const base = { server, authUrl, realm: opts.realm, clientId: opts.clientId };
        let profile: Profile;
        if (opts.username) {
          if (opts.password !== undefined && opts.passwordStdin) throw new CliError('give --password or --password-stdin, not both', 2);
          const password = opts.passwordStdin ? await readStdin() : opts.password;
          if (!password) throw new CliError('a password is needed: --password-stdin (or --password)', 2);
          const t = await requestToken(base, {
            grant_type: 'password',
            client_id: opts.clientId,
            client_secret: opts.clientSecret,
            username: opts.username,
            password,
          });
          // with a confidential client the secret is needed to refresh: keep it (file mode 0600)
          profile = withTokens({ ...base, grant: 'password', username: opts.username, clientSecret: opts.clientSecret }, t);
        } else if (opts.clientSecret) {
          const t = await requestToken(base, { grant_type: 'client_credentials', client_id: opts.clientId, client_secret: opts.clientSecret });
          profile = withTokens({ ...base, grant: 'client_credentials', clientSecret: opts.clientSecret }, t);
        } else {
          throw new CliError('give --username (with --password-stdin) or --client-id and --client-secret', 2);
        }
        const name = opts.profile ?? DEFAULT_PROFILE;
        saveProfile(name, profile);
        const who = profile.username ?? `client ${profile.clientId}`;
        if (wantsJson(cmd)) printJson({ profile: name, server, auth_url: authUrl, realm: opts.realm, client_id: opts.clientId, username: profile.username ?? null, file: profilesPath() });
        else process.stdout.write(`logged in to ${server} as ${who} (profile "${name}", saved in ${profilesPath()})\n`);
      }),
    );

  program
    .command('token')
    .description('print a valid access token of the profile (renewed when needed)')
    .option('--profile <name>', 'profile name (default: the last one logged in)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: { profile?: string }, cmd: Command) => {
        const { name, profile } = loadProfile(opts.profile);
        const token = await accessToken(name, profile);
        if (wantsJson(cmd)) {
          const fresh = readProfiles().profiles[name];
          printJson({ access_token: token, expires_at: fresh?.accessExpiresAt ? new Date(fresh.accessExpiresAt).toISOString() : null, profile: name });
        } else process.stdout.write(`${token}\n`);
      }),
    );
}
