import { describe, expect, it } from 'vitest';
import { normalizeChatKeys } from './schemas.js';

describe('normalizeChatKeys', () => {
  it('leaves a snake_case body as it is (no copy)', () => {
    const body = { text: 'hi', llm_model: 'm', conversation_id: 'c' };
    expect(normalizeChatKeys(body)).toBe(body);
  });

  it('rewrites camelCase keys without touching the caller’s object', () => {
    const body = { text: 'hi', llmModel: 'm', backgroundTask: true, outputSchema: { type: 'object' } };
    expect(normalizeChatKeys(body)).toEqual({ text: 'hi', llm_model: 'm', background_task: true, output_schema: { type: 'object' } });
    expect(body).toEqual({ text: 'hi', llmModel: 'm', backgroundTask: true, outputSchema: { type: 'object' } });
  });

  it('keeps the snake_case value when both spellings are sent', () => {
    expect(normalizeChatKeys({ llmModel: 'camel', llm_model: 'snake' })).toEqual({ llm_model: 'snake' });
  });

  it('turns a legacy file_name into file_names unless file_names is given', () => {
    expect(normalizeChatKeys({ file_name: 'a.txt' })).toEqual({ file_name: 'a.txt', file_names: ['a.txt'] });
    expect(normalizeChatKeys({ file_name: 'a.txt', fileNames: ['b.txt'] })).toEqual({ file_name: 'a.txt', file_names: ['b.txt'] });
  });

  it('passes non-objects through', () => {
    expect(normalizeChatKeys(null)).toBe(null);
    expect(normalizeChatKeys([1])).toEqual([1]);
    expect(normalizeChatKeys('x')).toBe('x');
  });
});
