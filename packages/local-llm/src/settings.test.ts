import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_MODEL } from './index.js';

describe('localModelSettingsFromEnv', () => {
  it('has defaults and reads the CODEMIE_LOCAL_MODEL_* variables', async () => {
    const { localModelSettingsFromEnv } = await import('./index.js');
    expect(localModelSettingsFromEnv({})).toEqual({
      model: DEFAULT_LOCAL_MODEL,
      contextSize: 4096,
      threads: 0,
      parallel: 1,
      maxQueue: 32,
      maxOutputTokens: 512,
      repeatPenalty: 1.3,
      frequencyPenalty: 0.3,
      presencePenalty: 0.1,
    });
    expect(
      localModelSettingsFromEnv({
        CODEMIE_LOCAL_MODEL: '/m.gguf',
        CODEMIE_LOCAL_MODEL_CONTEXT_SIZE: '2048',
        CODEMIE_LOCAL_MODEL_THREADS: '2',
        CODEMIE_LOCAL_MODEL_PARALLEL: '2',
        CODEMIE_LOCAL_MODEL_MAX_QUEUE: '5',
        CODEMIE_LOCAL_MODEL_MAX_TOKENS: '64',
        CODEMIE_LOCAL_MODEL_REPEAT_PENALTY: '1',
        CODEMIE_LOCAL_MODEL_FREQUENCY_PENALTY: '0',
        CODEMIE_LOCAL_MODEL_PRESENCE_PENALTY: '0.5',
      }),
    ).toEqual({ model: '/m.gguf', contextSize: 2048, threads: 2, parallel: 2, maxQueue: 5, maxOutputTokens: 64, repeatPenalty: 1, frequencyPenalty: 0, presencePenalty: 0.5 });
    expect(() => localModelSettingsFromEnv({ CODEMIE_LOCAL_MODEL_REPEAT_PENALTY: '0.5' })).toThrow(/CODEMIE_LOCAL_MODEL_REPEAT_PENALTY must be a number from 1 to 2/);
    expect(() => localModelSettingsFromEnv({ CODEMIE_LOCAL_MODEL_THREADS: 'many' })).toThrow(/CODEMIE_LOCAL_MODEL_THREADS must be an integer/);
  });
});
