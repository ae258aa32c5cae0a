/**
 * A live stack for the black-box compatibility suites: the test LLM server plus the BUILT server
 * (packages/server/dist/main.js) as a real child process on SQLite, with a user and a confidential
 * client created through the real CLI (`codemie idp user add`, `codemie idp client add --secret`).
 *
 * The Python SDK chooses its auth path from the API URL: a host containing localhost/127.0.0.1/
 * 0.0.0.0/192.168 → local-auth login; anything else → Keycloak token endpoint. `keycloakHost()`
 * finds a name for this machine that reaches a loopback address but is not "localhost" to the SDK.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from '../../../packages/server/test/process.js';
import { tempDir } from '../../../packages/server/test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type RecordedRequest, type TestLlmServer } from '../../../packages/server/test/llm-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'packages/cli/dist/index.js');

export const COMPAT = {
  realm: 'codemie',
  project: 'compat-demo',
  username: 'compat-user',
  email: 'compat-user@example.com',
  password: 'compat-password-123',
  clientId: 'compat-client',
  otherUsername: 'compat-other',
  otherPassword: 'compat-other-password-123',
  adminPassword: 'compat-admin-password',
  model: 'test-model',
} as const;

/** Substrings that make the Python SDK treat a URL as localhost (CodeMieClient._is_localhost_domain). */
const SDK_LOCAL_PATTERNS = ['localhost', '127.0.0.1', '0.0.0.0', '192.168'];
export const looksLocalToSdk = (url: string) => SDK_LOCAL_PATTERNS.some((p) => url.toLowerCase().includes(p));

/**
 * A host name for "Keycloak mode" plus the loopback address to bind so that name reaches the server:
 * the machine's host name when it resolves to a loopback address (Debian: 127.0.1.1, containers:
 * 127.0.0.1), else the bare address 127.0.0.2 (any 127/8 address is loopback on Linux).
 */
export async function keycloakHost(): Promise<{ name: string; bind: string }> {
  const name = os.hostname();
  try {
    const { address, family } = await lookup(name, { family: 4 });
    if (family === 4 && address.startsWith('127.') && !looksLocalToSdk(`http://${name}`)) return { name, bind: address };
  } catch {
    /* host name does not resolve */
  }
  return { name: '127.0.0.2', bind: '127.0.0.2' };
}

/** Replies with the JSON after "JSON:" in the last user message (for output_schema calls). */
export function jsonRule(req: RecordedRequest) {
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  const c = lastUser?.content;
  const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join(' ') : '';
  const m = /JSON:(\{.*\})/s.exec(text);
  return m ? { text: m[1] } : undefined;
}

export interface LiveServer {
  url: string;
  child: ChildProcess;
  env: Record<string, string>;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts the built server bound to `host` (a loopback address) and waits for /v1/healthcheck. */
export async function startServer(env: Record<string, string>, host = '127.0.0.1', timeoutMs = 20_000): Promise<LiveServer> {
  const fullEnv = { HOST: host, LOG_LEVEL: 'warn', ...env };
  const srv = await startServerProcess(fullEnv, timeoutMs);
  return { url: srv.url, child: srv.child, env: fullEnv, output: srv.output, stop: () => srv.stop('SIGTERM') };
}

/** Runs the built CLI with the server's database settings; rejects with its output on failure. */
export function cli(env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`codemie ${args.join(' ')} failed (${code}):\n${out}\n${err}`));
    });
  });
}

export interface CompatStack {
  llm: TestLlmServer;
  server: LiveServer;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * LLM server + built server (SQLite in a temp dir) bound to `host`, with the compat user
 * (project compat-demo) and a confidential client (service account in compat-demo).
 */
export async function startCompatStack(opts: { host?: string; llm?: TestLlmServer } = {}): Promise<CompatStack> {
  const ownLlm = !opts.llm;
  const llm = opts.llm ?? (await startTestLlmServer());
  if (ownLlm) llm.rule(jsonRule);
  const tmp = tempDir('codemie-compat-');
  const models = writeTestModelsFile(llm, tmp.dir);
  const dbEnv = { CODEMIE_DATA_DIR: tmp.dir, DATABASE_URL: '', CODEMIE_SCRYPT_N: '1024' };
  let server: LiveServer | undefined;
  try {
    server = await startServer({ ...dbEnv, ...models.env, CODEMIE_ADMIN_PASSWORD: COMPAT.adminPassword }, opts.host);
    const [, clientOut] = await Promise.all([
      cli(dbEnv, ['idp', 'user', 'add', COMPAT.username, '--password', COMPAT.password, '--email', COMPAT.email, '--name', 'Compat User', '--projects', COMPAT.project]),
      cli(dbEnv, ['idp', '--json', 'client', 'add', COMPAT.clientId, '--secret', '--projects', COMPAT.project]),
    ]);
    // A second user of the same project (owner-only checks, share links opened by someone else).
    await cli(dbEnv, ['idp', 'user', 'add', COMPAT.otherUsername, '--password', COMPAT.otherPassword, '--email', 'compat-other@example.com', '--name', 'Compat Other', '--projects', COMPAT.project]);
    const created = JSON.parse(clientOut) as Record<string, any>;
    const clientSecret = created.secret ?? created.client_secret ?? created.client?.secret;
    if (typeof clientSecret !== 'string') throw new Error(`no client secret in CLI output: ${JSON.stringify(created)}`);
    const s = server;
    return {
      llm,
      server: s,
      clientSecret,
      async close() {
        await s.stop();
        if (ownLlm) await llm.close();
        tmp.cleanup();
      },
    };
  } catch (err) {
    await server?.stop();
    if (ownLlm) await llm.close();
    tmp.cleanup();
    throw err;
  }
}
