/** The LLM models file as a user configures it, against the built server process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServerProcess, serverEntry, type ServerProcess } from './process.js';
import { tempDir } from './helpers.js';
import { startTestLlmServer, type TestLlmServer } from './llm-server.js';

describe('server with a models file', () => {
  const tmp = tempDir();
  const key = 'sk-process-SECRET-abcdef0123456789';
  let llm: TestLlmServer;
  let srv: ServerProcess;
  beforeAll(async () => {
    llm = await startTestLlmServer();
    const file = path.join(tmp.dir, 'models.yaml');
    writeFileSync(
      file,
      `models:\n  - base_name: local\n    provider: openai-compatible\n    base_url: ${llm.baseUrl}\n    api_key_env: MY_LLM_KEY\n    default: true\n`,
    );
    srv = await startServerProcess({ CODEMIE_DATA_DIR: tmp.dir, CODEMIE_LLM_CONFIG: file, MY_LLM_KEY: key, LOG_LEVEL: 'debug' });
  });
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    await llm.close();
    tmp.cleanup();
  });

  it('logs the configured models without their keys', async () => {
    expect(srv.output()).toContain('LLM models configured: 1');
    expect(srv.output()).not.toContain(key);
  });

  it('GET /v1/llm_models needs authentication and is in the OpenAPI spec', async () => {
    const res = await fetch(`${srv.url}/v1/llm_models`);
    expect(res.status).toBe(401);
    const spec = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toContain('/v1/llm_models');
  });
});

describe('bad models file', () => {
  it('refuses to start, naming the model and field', () => {
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'models.yaml');
    writeFileSync(file, '- base_name: broken\n  provider: openai-compatible\n');
    const res = spawnSync(process.execPath, [serverEntry], { env: { ...process.env, CODEMIE_DATA_DIR: tmp.dir, CODEMIE_LLM_CONFIG: file }, encoding: 'utf8' });
    tmp.cleanup();
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('Invalid LLM models configuration');
    expect(res.stderr).toContain('model "broken": base_url: is required for provider openai-compatible');
  });
});
