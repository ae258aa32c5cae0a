/** The tracer exports Langfuse-shaped spans to a local Langfuse OTel receiver. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLangfuseReceiver, langfuseEnv, type LangfuseReceiver } from '../../test/langfuse-receiver.js';
import { startTestPlatform } from '../../test/helpers.js';
import { noopTracer } from './tracer.js';

let rx: LangfuseReceiver;
beforeAll(async () => {
  rx = await startLangfuseReceiver();
});
afterAll(() => rx.close());

describe('tracer', () => {
  it('is a no-op unless configured', async () => {
    const p = await startTestPlatform();
    expect(p.infra.tracer).toBe(noopTracer);
    expect(p.infra.tracer.startTrace({ name: 'x' }).traceId).toBe('');
    await p.stop();
  });

  it('exports one trace with name, session, user, tags, metadata and a nested span tree', async () => {
    const p = await startTestPlatform({ env: langfuseEnv(rx) });
    expect(p.infra.tracer.enabled).toBe(true);
    const root = p.infra.tracer.startTrace({
      name: 'My workflow',
      sessionId: 'exec-1',
      userId: 'user-1',
      tags: ['experiment', 'customer_X'],
      metadata: { workflow_id: 'wf-1', execution_id: 'exec-1' },
      input: 'Run deployment check',
    });
    const state = root.child('state: check', { type: 'chain' });
    const gen = state.child('llm', { type: 'generation', model: 'gpt-4o', input: [{ role: 'user', content: 'hi' }] });
    gen.end({ output: 'hello', usage: { input: 3, output: 2 }, costUsd: 0.001 });
    const tool = state.child('tool: search', { type: 'tool', input: { q: 'x' } });
    tool.end({ output: 'boom', level: 'ERROR', statusMessage: 'tool failed' });
    state.end({ output: 'done' });
    root.end({ output: 'done' });
    await p.infra.tracer.flush();
    const spans = rx.spans.filter((s) => s.traceId === root.traceId);
    expect(spans).toHaveLength(4);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const r = byName['My workflow'];
    expect(r.parentSpanId).toBeUndefined();
    expect(r.attributes).toMatchObject({
      'langfuse.trace.name': 'My workflow',
      'session.id': 'exec-1',
      'user.id': 'user-1',
      'langfuse.trace.tags': ['experiment', 'customer_X'],
      'langfuse.trace.metadata.workflow_id': 'wf-1',
    });
    expect(byName['state: check'].parentSpanId).toBe(r.spanId);
    expect(byName.llm.parentSpanId).toBe(byName['state: check'].spanId);
    expect(byName.llm.attributes).toMatchObject({
      'langfuse.observation.type': 'generation',
      'langfuse.observation.model.name': 'gpt-4o',
    });
    expect(JSON.parse(byName.llm.attributes['langfuse.observation.usage_details'] as string)).toMatchObject({ input: 3, output: 2 });
    expect(byName['tool: search'].attributes).toMatchObject({ 'langfuse.observation.type': 'tool', 'langfuse.observation.level': 'ERROR' });
    expect(rx.rejectedAuth).toBe(0);
    await p.stop();
  });

  it('masks prompts and outputs when asked', async () => {
    const p = await startTestPlatform({ env: { ...langfuseEnv(rx), CODEMIE_TRACE_MASK_CONTENT: 'true' } });
    const root = p.infra.tracer.startTrace({ name: 'masked', input: 'secret prompt text' });
    root.child('g', { type: 'generation', input: 'secret prompt text' }).end({ output: 'secret answer' });
    root.end({ output: 'secret answer' });
    await p.infra.tracer.flush();
    const body = rx.rawBodies.join('\n');
    expect(body).toContain('masked');
    expect(body).not.toContain('secret prompt text');
    expect(body).not.toContain('secret answer');
    await p.stop();
  });

  it('a hanging Langfuse never blocks requests', async () => {
    rx.mode = 'hang';
    try {
      const p = await startTestPlatform({ env: langfuseEnv(rx) });
      for (let i = 0; i < 50; i++) p.infra.tracer.startTrace({ name: `t${i}` }).end();
      // The receiver never answers; requests are served all the same.
      const res = await p.app.inject({ method: 'GET', url: '/v1/healthcheck' });
      expect(res.statusCode).toBe(200);
      await p.stop();
    } finally {
      rx.mode = 'ok';
    }
  });

  it('exports to a plain OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const p = await startTestPlatform({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url } });
    expect(p.infra.tracer.enabled).toBe(true);
    const root = p.infra.tracer.startTrace({ name: 'otlp-only', sessionId: 's-otlp', tags: ['t1'] });
    root.child('state', { type: 'span' }).end();
    root.end();
    await p.infra.tracer.flush();
    const spans = rx.spans.filter((s) => s.traceId === root.traceId);
    expect(spans.map((s) => s.name).sort()).toEqual(['otlp-only', 'state']);
    expect(spans.find((s) => s.name === 'otlp-only')!.attributes).toMatchObject({ 'session.id': 's-otlp', 'langfuse.trace.tags': ['t1'] });
    await p.stop();
  });
});
