import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, TEST_LLM_API_KEY, type TestLlmServer } from '../../test/llm-server.js';

let llmServer: TestLlmServer;
let platform: TestPlatform;
const tmp = tempDir('codemie-llm-routes-');
const auth = testAuthHeaders({ username: 'alice' });

beforeAll(async () => {
  llmServer = await startTestLlmServer();
  const { env } = writeTestModelsFile(llmServer, tmp.dir, {
    models: [
      { base_name: 'hidden', provider: 'openai', api_key: 'sk-hidden-key-abcdef123', forbidden_for_web: true },
      { base_name: 'disabled', provider: 'openai', enabled: false },
      {
        base_name: 'azure-4o',
        provider: 'azure',
        resource_name: 'res',
        api_version: '2024-10-21',
        api_key: 'az-secret-key-0987654321',
        multimodal: true,
        default_for_categories: ['chat'],
      },
    ],
  });
  platform = await startTestPlatform({ testAuth: true, env });
});
afterAll(async () => {
  await platform.stop();
  await llmServer.close();
  tmp.cleanup();
});

describe('GET /v1/llm_models', () => {
  it('lists enabled models in the reference shape, nulls omitted, no secrets', async () => {
    const res = await platform.app.inject({ method: 'GET', url: '/v1/llm_models', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.map((m: { base_name: string }) => m.base_name)).toEqual(['test-model', 'test-openai', 'azure-4o']);
    expect(body[0]).toEqual({
      base_name: 'test-model',
      deployment_name: 'test-model',
      label: 'Test model (openai-compatible)',
      enabled: true,
      default: true,
      supports_image_generation: false,
      default_for_categories: [],
      max_output_tokens: 4096,
      cost: { input: 0.000001, output: 0.000002 },
      features: { streaming: true, tools: true, temperature: true, parallel_tool_calls: true, system_prompt: true, max_tokens: true, top_p: true },
    });
    expect(body[2]).toMatchObject({ provider: 'azure_openai', api_version: '2024-10-21', multimodal: true, default: false, default_for_categories: ['chat'] });
    expect(body[1]).not.toHaveProperty('label', null);
    for (const m of body) for (const v of Object.values(m)) expect(v).not.toBeNull();
    const raw = res.body;
    for (const secret of [TEST_LLM_API_KEY, 'sk-hidden-key-abcdef123', 'az-secret-key-0987654321', llmServer.url, 'api_key', 'base_url']) {
      expect(raw).not.toContain(secret);
    }
  });

  it('include_all=true also lists forbidden_for_web models', async () => {
    const res = await platform.app.inject({ method: 'GET', url: '/v1/llm_models?include_all=true', headers: auth });
    expect(res.statusCode).toBe(200);
    const hidden = res.json().find((m: { base_name: string }) => m.base_name === 'hidden');
    expect(hidden).toMatchObject({ base_name: 'hidden', forbidden_for_web: true });
    // not in the reference's LLMProvider enum (the Python SDK would reject the list): omitted
    expect(hidden).not.toHaveProperty('provider');
    expect(res.body).not.toContain('sk-hidden-key-abcdef123');
  });

  it('is also served under /code-assistant-api/v1', async () => {
    const res = await platform.app.inject({ method: 'GET', url: '/code-assistant-api/v1/llm_models', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveLength(3);
  });

  it('422 on a bad include_all value', async () => {
    const res = await platform.app.inject({ method: 'GET', url: '/v1/llm_models?include_all=maybe', headers: auth });
    expect(res.statusCode).toBe(422);
    expect(JSON.stringify(res.json().error)).toContain('include_all');
  });

  it('401 without credentials', async () => {
    const res = await platform.app.inject({ method: 'GET', url: '/v1/llm_models' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe('Authentication failed');
  });

  it('an empty list when no models are configured', async () => {
    const bare = await startTestPlatform({ testAuth: true });
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/v1/llm_models', headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
    } finally {
      await bare.stop();
    }
  });
});
