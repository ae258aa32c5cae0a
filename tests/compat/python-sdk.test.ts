/**
 * Python SDK compatibility: the official `codemie-sdk-python` (PyPI, unmodified) in a virtualenv
 * drives the BUILT server with pytest (tests/compat/python/), in both of the SDK's auth modes:
 *  - Keycloak mode: API reached through a host name the SDK does not consider localhost; tokens from
 *    the embedded IdP's /auth/realms/codemie/protocol/openid-connect/token (password and
 *    client_credentials grants);
 *  - localhost mode: API at 127.0.0.1; the SDK logs in with POST /v1/local-auth/login.
 * Needs python3 (3.11+) with the venv module, and PyPI reachable the first time (the venv is cached
 * in .cache/venv-compat). Build first (`npm test` does: tsc -b).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLlmServer, type TestLlmServer } from '../../packages/server/test/llm-server.js';
import { COMPAT, ROOT, jsonRule, keycloakHost, looksLocalToSdk, startCompatStack, systemRule, toolRule, type CompatStack } from './support/stack.js';
import { kbRule } from './support/kb-rule.js';

const PY_DIR = path.join(ROOT, 'tests/compat/python');

function runPytest(python: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--color=no', '-rs', PY_DIR], {
      cwd: PY_DIR,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Python SDK (codemie-sdk-python from PyPI) against the built server', () => {
  let python = '';
  let llm: TestLlmServer;
  let local: CompatStack;
  let remote: CompatStack | undefined;
  let kc: { name: string; bind: string };

  beforeAll(async () => {
    const venv = spawnSync('bash', [path.join(PY_DIR, 'setup_venv.sh')], { encoding: 'utf8', timeout: 170_000 });
    if (venv.status !== 0) throw new Error(`tests/compat/python/setup_venv.sh failed (${venv.status}):\n${venv.stderr}${venv.stdout}`);
    python = venv.stdout.trim().split('\n').pop()!;

    llm = await startTestLlmServer();
    llm.rule(jsonRule);
    llm.rule(toolRule);
    llm.rule(systemRule);
    llm.rule(kbRule);
    kc = await keycloakHost();
    local = await startCompatStack({ llm });
    // One server serves both modes when the Keycloak host name reaches 127.0.0.1.
    remote = kc.bind === '127.0.0.1' ? undefined : await startCompatStack({ llm, host: kc.bind });
  }, 180_000);

  afterAll(async () => {
    await local?.close();
    await remote?.close();
    await llm?.close();
  });

  const baseEnv = (stack: CompatStack, apiUrl: string, mode: string): Record<string, string> => ({
    CODEMIE_API_URL: apiUrl,
    CODEMIE_AUTH_URL: `${apiUrl}/auth`,
    CODEMIE_AUTH_REALM: COMPAT.realm,
    CODEMIE_USERNAME: COMPAT.username,
    CODEMIE_PASSWORD: COMPAT.password,
    CODEMIE_CLIENT_ID: COMPAT.clientId,
    CODEMIE_CLIENT_SECRET: stack.clientSecret,
    CODEMIE_PROJECT: COMPAT.project,
    CODEMIE_LLM_MODEL: COMPAT.model,
    CODEMIE_LOCAL_API_URL: local.server.url,
    COMPAT_AUTH_MODE: mode,
    CODEMIE_OTHER_USERNAME: COMPAT.otherUsername,
    CODEMIE_OTHER_PASSWORD: COMPAT.otherPassword,
    CODEMIE_OUTSIDER_USERNAME: COMPAT.outsiderUsername,
    CODEMIE_OUTSIDER_PASSWORD: COMPAT.outsiderPassword,
    CODEMIE_ADMIN_USERNAME: 'admin',
    CODEMIE_ADMIN_PASSWORD: COMPAT.adminPassword,
  });

  function check(result: { code: number | null; output: string }, stack: CompatStack) {
    if (result.code !== 0) {
      console.error(`pytest output:\n${result.output}\n--- server output (tail) ---\n${stack.server.output().slice(-4000)}`);
    }
    expect(result.code, result.output.slice(-6000)).toBe(0);
    expect(result.output).toMatch(/\d+ passed/);
  }

  it('Keycloak mode: host name that is not localhost, tokens from the embedded /auth/realms endpoint', async () => {
    const stack = remote ?? local;
    const port = new URL(stack.server.url).port;
    const apiUrl = `http://${kc.name}:${port}`;
    expect(looksLocalToSdk(apiUrl)).toBe(false);
    check(await runPytest(python, baseEnv(stack, apiUrl, 'keycloak')), stack);
  }, 120_000);

  it('localhost mode: the SDK logs in with POST /v1/local-auth/login', async () => {
    expect(looksLocalToSdk(local.server.url)).toBe(true);
    check(await runPytest(python, baseEnv(local, local.server.url, 'localhost')), local);
  }, 120_000);
});
