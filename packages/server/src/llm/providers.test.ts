/** Every provider kind builds through its real AI SDK adapter; azure also talks to the test server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadModels } from './models-config.js';
import { createLanguageModel, createProviderModel } from './providers.js';
import { createLlmService } from './service.js';
import { loadConfig } from '../config/config.js';
import type { AgentEvent } from './types.js';
import { startTestLlmServer, type TestLlmServer } from '../../test/llm-server.js';
import { tempDir } from '../../test/helpers.js';

describe('createLanguageModel', () => {
  it('builds openai, azure, anthropic, bedrock and openai-compatible models (each adapter loaded on first use)', async () => {
    const models = loadModels(
      {
        inline: JSON.stringify([
          { base_name: 'o', provider: 'openai', deployment_name: 'gpt-4o', api_key: 'k' },
          { base_name: 'or', provider: 'openai', deployment_name: 'gpt-4.1', api_key: 'k', api: 'responses' },
          { base_name: 'a', provider: 'azure', deployment_name: 'dep-4o', resource_name: 'res', api_key: 'k', api_version: '2024-10-21' },
          { base_name: 'c', provider: 'anthropic', deployment_name: 'claude-sonnet-4-5', api_key: 'k' },
          { base_name: 'b', provider: 'bedrock', deployment_name: 'anthropic.claude-3-5-sonnet-20240620-v1:0', region: 'eu-west-1', access_key_id_env: 'AK', secret_access_key_env: 'SK' },
          { base_name: 'l', provider: 'openai-compatible', deployment_name: 'llama3.1', base_url: 'http://127.0.0.1:11434/v1' },
        ]),
      },
      { AK: 'x', SK: 'y' },
    );
    // Until its first call a model is a stand-in that names its provider; no adapter is loaded yet.
    expect(models.map((m) => createLanguageModel(m, { AK: 'x', SK: 'y' })).map((lm) => typeof lm !== 'string' && lm.provider)).toEqual(models.map((m) => m.provider));
    const built = await Promise.all(models.map((m) => createProviderModel(m, { AK: 'x', SK: 'y' })));
    const ids = built.map((lm) => (typeof lm === 'string' ? lm : `${lm.provider}:${lm.modelId}`));
    expect(ids).toEqual([
      'openai.chat:gpt-4o',
      'openai.responses:gpt-4.1',
      'azure.chat:dep-4o',
      'anthropic.messages:claude-sonnet-4-5',
      'amazon-bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0',
      'openai-compatible.chat:llama3.1',
    ]);
  });
});

describe('azure through the test server', () => {
  let server: TestLlmServer;
  const tmp = tempDir();
  beforeAll(async () => {
    server = await startTestLlmServer();
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('sends the deployment, api-key header and api-version; streams the answer', async () => {
    const cfg = loadConfig({
      CODEMIE_DATA_DIR: tmp.dir,
      CODEMIE_LLM_MODELS: JSON.stringify([
        { base_name: 'az', provider: 'azure', deployment_name: 'my-deployment', base_url: `${server.url}/openai`, api_key: 'az-key', api_version: '2024-10-21', use_deployment_based_urls: true },
      ]),
    });
    const llm = createLlmService(cfg, pino({ level: 'silent' }));
    server.script({ text: 'hello from azure' });
    const events: AgentEvent[] = [];
    for await (const e of llm.runAgent({ model: 'az', messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal })) events.push(e);
    expect(events.at(-1)).toMatchObject({ type: 'finish', text: 'hello from azure' });
    const [r] = server.chatRequests();
    expect(r.path).toBe('/openai/deployments/my-deployment/chat/completions');
    expect(r.url).toContain('api-version=2024-10-21');
    expect(r.headers['api-key']).toBe('az-key');
    expect(r.headers.authorization).toBeUndefined();
  });
});
