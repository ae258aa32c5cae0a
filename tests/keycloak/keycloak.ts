/**
 * Test helpers for the Keycloak suite: a real Keycloak (scripts/keycloak.sh), the built
 * `codemie` CLI as a child process, and the two token grants.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(root, 'scripts/keycloak.sh');
const cliEntry = path.join(root, 'packages/cli/dist/index.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `scripts/keycloak.sh <args>`; exit code 3 means Maven Central is unreachable. */
export function keycloakScript(...args: string[]): Promise<Run> {
  return run('bash', [script, ...args], {}, 600_000);
}

export function parseExports(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

export function buildPackages(): Promise<Run> {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  return run(process.execPath, [tsc, '-b', 'packages/server', 'packages/sdk', 'packages/cli'], {}, 300_000);
}

/** `codemie keycloak <args>` against the built CLI. */
export function codemie(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return run(process.execPath, [cliEntry, 'keycloak', ...args], env);
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

export async function token(tokenUrl: string, form: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function claims(accessToken: unknown): Record<string, unknown> {
  if (typeof accessToken !== 'string') throw new Error(`no access token: ${String(accessToken)}`);
  const payload = accessToken.split('.')[1]!;
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
