/**
 * A deeply nested output_schema on an assistant call is refused with 422 and a reason, never
 * "Maximum call stack size exceeded" (the schema compiler recursed on it before).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', projects: ['demo'] });

/** The body as text: JSON.stringify itself runs out of stack on a few thousand levels. */
function deepBody(levels: number): string {
  return `{"text":"hi","output_schema":${'{"type":"object","properties":{"x":'.repeat(levels)}{"type":"string"}${'}}'.repeat(levels)}}`;
}

function nested(levels: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < levels; i++) inner = { type: 'object', properties: { x: inner } };
  return inner;
}

describe('assistant call: output_schema bounds', () => {
  const tmp = tempDir('codemie-output-schema-');
  let llm: TestLlmServer;
  let p: TestPlatform;
  let id: string;
  beforeAll(async () => {
    llm = await startTestLlmServer();
    p = await startTestPlatform({ testAuth: true, env: writeTestModelsFile(llm, tmp.dir).env });
    const res = await p.app.inject({ method: 'POST', url: '/v1/assistants', headers: alice, payload: { name: 'S', description: '', system_prompt: 'x', project: 'demo' } });
    id = res.json().assistantId;
  });
  afterAll(async () => {
    await p?.stop();
    await llm?.close();
    tmp.cleanup();
  });

  for (const levels of [100, 5000, 20_000]) {
    it(`a schema nested ${levels} levels deep → 422 saying so`, async () => {
      const res = await p.app.inject({ method: 'POST', url: `/v1/assistants/${id}/model`, headers: { ...alice, 'content-type': 'application/json' }, payload: deepBody(levels) });
      expect(res.statusCode).toBe(422);
      expect(res.json().error).toMatchObject({ message: 'Wrong JSON schema for structured output', details: 'the schema is nested more than 64 levels deep' });
      expect(res.body).not.toMatch(/call stack/i);
      expect(llm.chatRequests()).toHaveLength(0);
    });
  }

  it('an ordinary nested schema still works', async () => {
    llm.script({ text: '{"x":{"x":"deep"}}' });
    const res = await p.app.inject({ method: 'POST', url: `/v1/assistants/${id}/model`, headers: alice, payload: { text: 'hi', output_schema: nested(2) } });
    expect(res.statusCode).toBe(200);
    expect(res.json().generated).toEqual({ x: { x: 'deep' } });
  });
});
