import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadModels, LlmConfigError } from './models-config.js';
import { createLlmService } from './service.js';
import { loadConfig } from '../config/config.js';
import { ApiError } from '../api/errors.js';
import { tempDir } from '../../test/helpers.js';
import { createPlatform } from '../platform.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LlmConfigError);
    return (err as LlmConfigError).problems;
  }
  throw new Error('expected LlmConfigError');
}

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

const yamlFile = (body: string) => {
  const t = tempDir('codemie-llmcfg-');
  cleanups.push(t.cleanup);
  const file = path.join(t.dir, 'models.yaml');
  writeFileSync(file, body);
  return file;
};

describe('models file', () => {
  it('loads a YAML list with defaults, key from env and cost per 1M converted to per token', () => {
    const file = yamlFile(`
models:
  - base_name: gpt-4o
    provider: azure_openai
    resource_name: my-res
    api_version: 2024-10-21
    api_key_env: AZ_KEY
    default: true
    cost_per_million: { input: 2.5, output: 10, cached_input: 1.25 }
  - base_name: claude
    provider: anthropic
    deployment_name: claude-sonnet-4-5
    api_key: literal-key
    features: { top_p: false }
`);
    const models = loadModels({ file }, { AZ_KEY: 'az-secret' });
    expect(models).toHaveLength(2);
    expect(models[0]).toMatchObject({ base_name: 'gpt-4o', provider: 'azure', deployment_name: 'gpt-4o', apiKey: 'az-secret', default: true });
    expect(models[0].cost).toEqual({ input: 2.5e-6, output: 1e-5, cache_read_input_token_cost: 1.25e-6 });
    expect(models[1]).toMatchObject({ deployment_name: 'claude-sonnet-4-5', apiKey: 'literal-key' });
    expect(models[1].features).toEqual({ streaming: true, tools: true, temperature: true, parallel_tool_calls: true, system_prompt: true, max_tokens: true, top_p: false });
  });

  it('reads inline JSON (CODEMIE_LLM_MODELS), which wins over the file', () => {
    const models = loadModels({ file: '/does/not/exist', inline: JSON.stringify([{ base_name: 'm', provider: 'openai' }]) });
    expect(models.map((m) => m.base_name)).toEqual(['m']);
  });

  it('no file and no inline models: no models', () => {
    expect(loadModels({})).toEqual([]);
  });

  it('names the model and the field of every problem', () => {
    const file = yamlFile(`
- base_name: a
  provider: gemini
- base_name: b
  provider: openai-compatible
  cost: { input: -1, output: 1 }
  colour: blue
- provider: openai
- base_name: c
  provider: openai
  api_key_env: MISSING_KEY_VAR
- base_name: c
  provider: openai
  default: true
- base_name: d
  provider: openai
  default: true
`);
    const p = problems(() => loadModels({ file }, {}));
    const all = p.join('\n');
    expect(all).toMatch(/model "a": provider: must be one of openai, azure, anthropic, bedrock, openai-compatible/);
    expect(all).toMatch(/model "b": unknown field\(s\) colour/);
    expect(all).toMatch(/model #3: base_name:/);
    expect(all).toMatch(/model "c": api_key_env: environment variable MISSING_KEY_VAR is not set/);
    expect(all).toMatch(/CODEMIE_LLM_CONFIG \(.*models\.yaml\)/);
    const p2 = problems(() =>
      loadModels({ inline: JSON.stringify([{ base_name: 'x', provider: 'openai-compatible' }, { base_name: 'x', provider: 'openai', default: true }, { base_name: 'y', provider: 'openai', default: true }]) }),
    );
    expect(p2.join('\n')).toMatch(/model "x": base_url: is required for provider openai-compatible/);
    const p3 = problems(() => loadModels({ inline: JSON.stringify([{ base_name: 'x', provider: 'openai' }, { base_name: 'x', provider: 'openai' }]) }));
    expect(p3.join('\n')).toMatch(/model "x": base_name: duplicated/);
    const p4 = problems(() => loadModels({ inline: JSON.stringify([{ base_name: 'x', provider: 'openai', default: true }, { base_name: 'y', provider: 'openai', default: true }]) }));
    expect(p4.join('\n')).toMatch(/only one model may be the default \(got x, y\)/);
  });

  it('reports bad YAML, a missing file and a wrong top-level shape', () => {
    expect(problems(() => loadModels({ file: '/nope/models.yaml' }))[0]).toMatch(/file not found/);
    expect(problems(() => loadModels({ file: yamlFile('models: [') }))[0]).toMatch(/not valid YAML/);
    expect(problems(() => loadModels({ file: yamlFile('just: a mapping') }))[0]).toMatch(/must be a list of models/);
    expect(problems(() => loadModels({ inline: '{nope' }))[0]).toMatch(/CODEMIE_LLM_MODELS is not valid JSON/);
  });

  it('a bad models file stops platform start-up', async () => {
    const t = tempDir();
    const cfg = loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_LLM_MODELS: JSON.stringify([{ base_name: 'a', provider: 'nope' }]) });
    await expect(createPlatform(cfg, { logger: false })).rejects.toThrow(/model "a": provider/);
    t.cleanup();
  });
});

describe('resolveModel', () => {
  const log = pino({ level: 'silent' });
  const t = tempDir();
  cleanups.push(t.cleanup);

  it('lists the embedded local model as the default when nothing hosted is configured; not the default otherwise', () => {
    const only = createLlmService(loadConfig({ CODEMIE_DATA_DIR: t.dir }), log);
    expect(only.listModels()).toEqual([expect.objectContaining({ base_name: 'smollm2-135m-instruct', provider: 'local', default: true })]);
    const mixed = createLlmService(loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_LLM_MODELS: JSON.stringify([{ base_name: 'h', provider: 'openai' }]) }), log);
    expect(mixed.listModels().map((m) => [m.base_name, m.default])).toEqual([
      ['h', true],
      ['smollm2-135m-instruct', false],
    ]);
  });

  it('the default local model has one name however its file is supplied; the file-derived spelling is an alias; no server path is listed', () => {
    const hf = createLlmService(loadConfig({ CODEMIE_DATA_DIR: t.dir }), log);
    const file = createLlmService(loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_LOCAL_MODEL: '/srv/secret/place/SmolLM2-135M-Instruct.Q4_1.gguf' }), log);
    for (const s of [hf, file]) {
      expect(s.listModels()).toEqual([expect.objectContaining({ base_name: 'smollm2-135m-instruct', deployment_name: 'SmolLM2-135M-Instruct.Q4_1.gguf' })]);
      expect(s.resolveModel('local-smollm2-135m-instruct.q4-1').base_name).toBe('smollm2-135m-instruct');
    }
    expect(JSON.stringify(file.listModels())).not.toContain('/srv/secret');
    const other = createLlmService(loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_LOCAL_MODEL: '/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf' }), log);
    expect(other.listModels()).toEqual([expect.objectContaining({ base_name: 'local-qwen2.5-0.5b-instruct-q4-k-m', deployment_name: 'Qwen2.5-0.5B-Instruct-Q4_K_M.gguf' })]);
  });

  it('without models (and the local model off): 400 "No LLM models are configured" with help', () => {
    const s = createLlmService(loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_LOCAL_MODEL: 'off' }), log);
    expect(s.listModels()).toEqual([]);
    try {
      s.resolveModel();
      throw new Error('expected');
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).message).toBe('No LLM models are configured');
      expect((err as ApiError).help).toContain('CODEMIE_LLM_CONFIG');
    }
  });

  it('resolves the default, a named model, and rejects unknown/disabled ones naming the available', () => {
    const s = createLlmService(
      loadConfig({
        CODEMIE_DATA_DIR: t.dir,
        CODEMIE_LOCAL_MODEL: 'off',
        CODEMIE_LLM_MODELS: JSON.stringify([
          { base_name: 'a', provider: 'openai' },
          { base_name: 'b', provider: 'openai', default: true },
          { base_name: 'off', provider: 'openai', enabled: false },
        ]),
      }),
      log,
    );
    expect(s.resolveModel().base_name).toBe('b');
    expect(s.resolveModel('').base_name).toBe('b');
    expect(s.resolveModel('a')).toMatchObject({ base_name: 'a', default: false });
    for (const name of ['zzz', 'off']) {
      try {
        s.resolveModel(name);
        throw new Error('expected');
      } catch (err) {
        expect((err as ApiError).status).toBe(400);
        expect((err as ApiError).message).toBe(`Unknown LLM model: ${name}`);
        expect(String((err as ApiError).details)).toContain('Available models: a, b.');
      }
    }
  });

  it('the first enabled model is the default when none is marked', () => {
    const s = createLlmService(
      loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_LLM_MODELS: JSON.stringify([{ base_name: 'off', provider: 'openai', enabled: false }, { base_name: 'x', provider: 'openai' }]) }),
      log,
    );
    expect(s.resolveModel().base_name).toBe('x');
    expect(s.listModels().find((m) => m.base_name === 'x')?.default).toBe(true);
  });
});
