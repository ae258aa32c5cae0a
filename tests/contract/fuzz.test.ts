/**
 * Fuzzes the whole API against its own OpenAPI document with schemathesis (PyPI, in the Python
 * SDK's virtualenv): the built server runs as a real process with the scripted test LLM, seeded
 * with one of each entity so operations reach their handlers, and every operation is tried with
 * the admin's token through the examples and fuzzing phases. The run fails on any server error,
 * response that breaks its schema, undocumented status or content type, or accepted invalid
 * request (config: tests/contract/schemathesis.toml).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../packages/server/test/process.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../packages/server/test/llm-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN_PASSWORD = 'fuzz-admin-password';
/** Test cases per operation and phase: enough to find what these suites found, bounded for CI. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 10);

async function json(res: Response) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${text}`);
  return JSON.parse(text);
}

describe('API fuzzing (schemathesis against /openapi.json)', () => {
  let python = '';
  let llm: TestLlmServer;
  let server: ServerProcess;
  let dir: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const venv = spawnSync('bash', [path.join(ROOT, 'tests/compat/python/setup_venv.sh')], { encoding: 'utf8', timeout: 240_000 });
    if (venv.status !== 0) throw new Error(`tests/compat/python/setup_venv.sh failed (${venv.status}):\n${venv.stderr}${venv.stdout}`);
    python = venv.stdout.trim().split('\n').pop()!;
    dir = mkdtempSync(path.join(os.tmpdir(), 'codemie-fuzz-'));
    llm = await startTestLlmServer({ instant: true });
    const models = writeTestModelsFile(llm, dir);
    server = await startServerProcess({
      ...models.env,
      CODEMIE_DATA_DIR: dir,
      CODEMIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      CODEMIE_SEED_DEMO: 'true',
      CODEMIE_SCRYPT_N: '1024',
      LOG_LEVEL: 'warn',
      CODEMIE_ACCESS_TOKEN_TTL: '3600',
      // The fuzzer is one user sending thousands of requests: fair use and lock-outs off.
      CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: '0',
      CODEMIE_LIMIT_PROJECT_REQUESTS_PER_MINUTE: '0',
      CODEMIE_LIMIT_USER_CONCURRENT_RUNS: '0',
      CODEMIE_LIMIT_PROJECT_CONCURRENT_RUNS: '0',
      CODEMIE_LOGIN_MAX_FAILURES: '1000',
      CODEMIE_LLM_MAX_RETRIES: '0',
    });
    const token = (
      await json(
        await fetch(`${server.url}/auth/realms/codemie/protocol/openid-connect/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: ADMIN_PASSWORD }),
        }),
      )
    ).access_token as string;
    ids.token = token;
    const api = (method: string, url: string, body?: unknown) =>
      fetch(`${server.url}/v1${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      }).then(json);
    // One of each entity, so that operations on them reach their handlers (not only 404s).
    const assistant = (await api('GET', '/assistants?scope=all')).data[0];
    const workflow = (await api('GET', '/workflows')).data[0];
    ids.assistant_id = assistant.id;
    ids.slug = assistant.slug;
    ids.workflow_id = workflow.id;
    const call = await api('POST', `/assistants/${assistant.id}/model`, { text: 'hello' });
    expect(call.success).toBe(true);
    ids.conversation_id = (await api('GET', '/conversations'))[0].id;
    ids.task_id = (await api('POST', `/assistants/${assistant.id}/model`, { text: 'later', background_task: true })).taskId;
    ids.execution_id = (await api('POST', `/workflows/${workflow.id}/executions`, { user_input: 'plan a trip' })).execution_id;
    for (let i = 0; i < 100; i++) {
      const e = await api('GET', `/workflows/${workflow.id}/executions/${ids.execution_id}`);
      if (e.overall_status !== 'In Progress') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    ids.state_id = (await api('GET', `/workflows/${workflow.id}/executions/${ids.execution_id}/states`)).data[0].id;
    const form = new FormData();
    form.append('file', new Blob(['hello, fuzzer'], { type: 'text/plain' }), 'note.txt');
    ids.file_url = (await json(await fetch(`${server.url}/v1/files/`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form }))).file_url;
    const kb = new FormData();
    kb.append('files', new Blob(['The fuzzer indexes this line.'], { type: 'text/plain' }), 'kb.txt');
    await json(await fetch(`${server.url}/v1/index/knowledge_base/file?name=fuzz-kb&project_name=demo&description=fuzz`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: kb }));
    ids.index_id = (await api('GET', '/index')).data[0].id;
    ids.datasource_id = ids.index_id;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await llm?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds no server error, schema violation, undocumented status or accepted invalid request', async () => {
    const config = readFileSync(path.join(ROOT, 'tests/contract/schemathesis.toml'), 'utf8')
      .replaceAll('${MAX_EXAMPLES}', String(MAX_EXAMPLES))
      .replace(
        '# [seeded parameters]',
        Object.entries(ids)
          .filter(([k]) => k !== 'token')
          .map(([k, v]) => `"path.${k}" = ${JSON.stringify(v)}`)
          .join('\n'),
      );
    const configFile = path.join(dir, 'schemathesis.toml');
    writeFileSync(configFile, config);
    const bin = path.join(path.dirname(python), 'schemathesis');
    const args = ['--config-file', configFile, 'run', `${server.url}/openapi.json`, '-H', `Authorization: Bearer ${ids.token}`, '--no-color'];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(bin, args, { cwd: dir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve({ code: c, output: out.replace(/\u0000/g, '') });
      });
    });
    if (code !== 0) console.error(output);
    expect(output).toMatch(/Tested: \d+/);
    expect(code, 'schemathesis found failures (see the output above)').toBe(0);
  }, 660_000);
});
