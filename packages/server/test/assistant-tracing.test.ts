/** An assistant call is one trace: session = conversation id, user, llm_model/agent_name tags plus metadata.langfuse_tags. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from './helpers.js';
import { authHeaders, createUser, passwordToken } from './identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile, TEST_LLM_API_KEY, type TestLlmServer } from './llm-server.js';
import { startLangfuseReceiver, langfuseEnv, type LangfuseReceiver } from './langfuse-receiver.js';

let llm: TestLlmServer;
let rx: LangfuseReceiver;
let p: TestPlatform;
const tmp = tempDir();

beforeAll(async () => {
  llm = await startTestLlmServer();
  rx = await startLangfuseReceiver();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  p = await startTestPlatform({ env: { ...env, ...langfuseEnv(rx) } });
  await createUser(p, { username: 'tracy', projects: ['demo'] });
});
afterAll(async () => {
  await p.stop();
  await llm.close();
  await rx.close();
  tmp.cleanup();
});

describe('assistant call traces', () => {
  it('exports one trace with session, user, tags and a generation, without header values or keys', async () => {
    const h = authHeaders(await passwordToken(p, 'tracy'));
    const a = await p.app.inject({
      method: 'POST',
      url: '/v1/assistants',
      headers: h,
      payload: { name: 'Tracer Bot', description: '', system_prompt: 'x', llm_model_type: 'test-model', project: 'demo' },
    });
    const res = await p.app.inject({
      method: 'POST',
      url: `/v1/assistants/${a.json().assistantId}/model`,
      headers: { ...h, 'x-tenant-id': 'tenant-value-123' },
      payload: { text: 'hi', conversation_id: 'conv-trace-1', propagate_headers: true, metadata: { langfuse_tags: ['team-a'] } },
    });
    expect(res.statusCode).toBe(200);
    await p.infra.tracer.flush();
    const root = rx.spans.find((s) => !s.parentSpanId && s.attributes['session.id'] === 'conv-trace-1')!;
    expect(root).toBeDefined();
    expect(root.attributes).toMatchObject({
      'langfuse.trace.name': 'Tracer Bot',
      'user.id': 'tracy',
      // version: the assistant version the call ran (as the reference tags its traces).
      'langfuse.trace.tags': ['llm_model:test-model', 'agent_name:Tracer Bot', 'version:1', 'team-a'],
    });
    const gen = rx.spans.find((s) => s.traceId === root.traceId && s.attributes['langfuse.observation.type'] === 'generation');
    expect(gen?.parentSpanId).toBe(root.spanId);
    const all = rx.rawBodies.join('\n');
    expect(all).not.toContain('tenant-value-123');
    expect(all).not.toContain(TEST_LLM_API_KEY);
  });
});
