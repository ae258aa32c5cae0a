/**
 * Load shedding through the real HTTP stack: beyond the process's (or a user's) bound of calls in
 * flight, a new assistant call is refused at once with 503 and Retry-After; admitted calls finish,
 * and their slots come back (streams included, when they end or the client goes away).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const tmp = tempDir('codemie-shedding-');
let llm: TestLlmServer;
let p: TestPlatform;
let assistantId = '';
const alice = testAuthHeaders({ id: 'alice', username: 'alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', projects: ['demo'] });

const call = (headers: Record<string, string>, body: Record<string, unknown> = {}) =>
  fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hi', ...body }),
  });

/** Resolves once the platform reports `n` calls in flight (the metric the shedder keeps). */
async function inflight(n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const text = await p.infra.metrics.registry.getSingleMetricAsString('codemie_calls_inflight');
    if (new RegExp(`codemie_calls_inflight ${n}\\b`).test(text)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never saw ${n} calls in flight`);
}

beforeAll(async () => {
  llm = await startTestLlmServer();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  p = await startTestPlatform({ testAuth: true, listen: true, env: { ...env, CODEMIE_MAX_INFLIGHT_CALLS: '2', CODEMIE_MAX_INFLIGHT_CALLS_PER_USER: '1' } });
  const res = await fetch(`${p.url}/v1/assistants`, {
    method: 'POST',
    headers: { ...alice, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Slow', system_prompt: 'x', project: 'demo', shared: true, llm_model_type: 'test-model' }),
  });
  assistantId = ((await res.json()) as { assistantId: string }).assistantId;
});
afterAll(async () => {
  await p.stop();
  await llm.close();
  tmp.cleanup();
});

describe('load shedding', () => {
  it('refuses a user over its bound at once with 503 + Retry-After; the admitted call finishes; the slot comes back', async () => {
    llm.script({ text: 'slow answer', firstTokenDelayMs: 400 });
    const first = call(alice);
    await inflight(1);
    const refused = await call(alice);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: unknown }).error).toEqual({
      message: 'Too many calls of this user in progress',
      details: expect.stringContaining('CODEMIE_MAX_INFLIGHT_CALLS_PER_USER'),
      help: 'Retry after 1 s, or wait for a call of yours to end.',
    });
    const ok = await first;
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { generated: string }).generated).toBe('slow answer');
    await inflight(0);
    expect((await call(alice)).status).toBe(200);
  });

  it('refuses anyone over the process bound; a stream holds its slot until it ends', async () => {
    llm.script({ text: 'one two three', delayMs: 150 });
    llm.script({ text: 'blocking', firstTokenDelayMs: 1500 });
    const stream = await call(alice, { stream: true });
    expect(stream.status).toBe(200);
    const hanging = call(bob, {});
    await inflight(2);
    const carol = testAuthHeaders({ id: 'carol', username: 'carol', projects: ['demo'] });
    const refused = await call(carol);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe('The server is at capacity');
    // The stream ends: its slot is free again, and the next caller is admitted.
    expect(await stream.text()).toContain('"last":true');
    await inflight(1);
    llm.script({ text: 'fine' });
    expect((await call(carol)).status).toBe(200);
    const shed = await p.infra.metrics.registry.getSingleMetricAsString('codemie_calls_shed_total');
    expect(shed).toMatch(/codemie_calls_shed_total\{scope="server"\} 1/);
    expect(shed).toMatch(/codemie_calls_shed_total\{scope="user"\} 1/);
    expect((await hanging).status).toBe(200);
  }, 20_000);

  it('a stream whose client goes away frees its slot', async () => {
    llm.script({ text: 'never read', firstTokenDelayMs: 3000 });
    const ac = new AbortController();
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi', stream: true }),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    await inflight(1);
    ac.abort();
    await inflight(0);
  }, 10_000);
});

describe('load shedding on event-loop delay', () => {
  let q: TestPlatform;
  let qAssistant = '';
  beforeAll(async () => {
    const { env } = writeTestModelsFile(llm, tmp.dir);
    q = await startTestPlatform({ testAuth: true, listen: true, env: { ...env, CODEMIE_MAX_INFLIGHT_CALLS: '0', CODEMIE_MAX_EVENT_LOOP_DELAY_MS: '100' } });
    const res = await fetch(`${q.url}/v1/assistants`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Plain', system_prompt: 'x', project: 'demo', shared: true, llm_model_type: 'test-model' }),
    });
    qAssistant = ((await res.json()) as { assistantId: string }).assistantId;
  });
  afterAll(() => q.stop());

  const callQ = () =>
    fetch(`${q.url}/v1/assistants/${qAssistant}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });

  it('refuses new calls at once while the event loop lags, and takes them again when it has caught up', async () => {
    llm.script({ text: 'before' });
    expect((await callQ()).status).toBe(200);
    // Block this process's event loop (the platform runs in it) for longer than the bound.
    const until = Date.now() + 700;
    while (Date.now() < until) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 20)); // the overdue delay window closes first
    const refused = await callQ();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    const { error } = (await refused.json()) as { error: { message: string; details: string; help: string } };
    expect(error.message).toBe('The server is at capacity');
    expect(error.details).toMatch(/event loop is \d+ ms behind \(more than CODEMIE_MAX_EVENT_LOOP_DELAY_MS, 100 ms\)/);
    expect(await q.infra.metrics.registry.getSingleMetricAsString('codemie_calls_shed_total')).toMatch(/scope="delay"} 1\b/);
    // Two quiet windows later the process takes calls again.
    await new Promise((r) => setTimeout(r, 1100));
    llm.script({ text: 'after' });
    const ok = await callQ();
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { generated: string }).generated).toBe('after');
  });
});
