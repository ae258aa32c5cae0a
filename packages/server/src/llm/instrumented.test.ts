/** LLM calls are counted in /metrics and traced as generations (with tool spans) under the caller's trace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, TEST_LLM_API_KEY, type TestLlmServer } from '../../test/llm-server.js';
import { startLangfuseReceiver, langfuseEnv, type LangfuseReceiver } from '../../test/langfuse-receiver.js';
import { runToEnd } from './collect.js';
import type { AgentTool } from './tool.js';

let llm: TestLlmServer;
let rx: LangfuseReceiver;
let p: TestPlatform;
const tmp = tempDir();

beforeAll(async () => {
  llm = await startTestLlmServer();
  rx = await startLangfuseReceiver();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  p = await startTestPlatform({ env: { ...env, ...langfuseEnv(rx) } });
});
afterAll(async () => {
  await p.stop();
  await llm.close();
  await rx.close();
  tmp.cleanup();
});

const weather: AgentTool = {
  name: 'weather',
  description: 'weather for a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  execute: async (args) => ({ output: `sunny in ${String(args.city)}`, isError: false }),
};

describe('instrumented LLM layer', () => {
  it('records a generation with usage and a tool span under the trace, and counts the call', async () => {
    llm.script({ toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] }, { text: 'It is sunny.', usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const root = p.infra.tracer.startTrace({ name: 'call', sessionId: 's-1' });
    const ac = new AbortController();
    const result = await runToEnd(
      p.infra.llm.runAgent({
        model: 'test-model',
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [weather],
        signal: ac.signal,
        trace: { observation: root },
      }),
    );
    root.end();
    expect(result.type).toBe('finish');
    await p.infra.tracer.flush();
    const spans = rx.spans.filter((s) => s.traceId === root.traceId);
    const gen = spans.find((s) => s.name === 'llm: test-model')!;
    expect(gen.attributes).toMatchObject({ 'langfuse.observation.type': 'generation', 'langfuse.observation.model.name': 'test-model', 'session.id': 's-1' });
    const tool = spans.find((s) => s.name === 'tool: weather')!;
    expect(tool.parentSpanId).toBe(gen.spanId);
    expect(tool.attributes['langfuse.observation.output']).toContain('sunny in Oslo');
    expect(rx.rawBodies.join()).not.toContain(TEST_LLM_API_KEY);

    const metrics = (await p.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/codemie_llm_calls_total\{model="test-model",outcome="ok"\} 1/);
    expect(metrics).toMatch(/codemie_llm_tokens_total\{model="test-model",direction="output"\} \d+/);
  });
});
