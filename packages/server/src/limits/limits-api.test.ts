/**
 * Fair-use limits on a started platform (memory backend): 429 in the error envelope with
 * Retry-After and the limit named, nothing stored for a refused run, the slot freed when a run
 * completes or is aborted so the next one is accepted, and the per-user / per-project rates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';
import { lastUserText, until } from '../../test/scale-support.js';
import type { AuthUser } from '../api/auth.js';

const WORKFLOW = `assistants:
  - id: a
    model: test-model
    system_prompt: You work.
states:
  - id: only
    assistant_id: a
    task: "{{user_input}}"
    next:
      state_id: end
`;

const u = (id: string, extra: Partial<AuthUser> = {}): Partial<AuthUser> => ({ id, username: id, projects: ['demo'], ...extra });
const admin = u('root', { roles: ['admin'] });

let llm: TestLlmServer;
const tmp = tempDir('codemie-limits-');
beforeAll(async () => {
  llm = await startTestLlmServer();
  llm.rule((req) =>
    lastUserText(req).includes('HANG') ? { hang: true } : lastUserText(req).includes('SLOW') ? { text: 'done', firstTokenDelayMs: 400 } : undefined,
  );
});
afterAll(async () => {
  await llm.close();
  tmp.cleanup();
});

function client(p: () => TestPlatform) {
  return async (method: string, url: string, user: Partial<AuthUser> | null, body?: unknown) => {
    const res = await p().app.inject({
      method: method as 'GET',
      url,
      headers: { ...(user ? testAuthHeaders(user) : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      payload: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.statusCode, headers: res.headers, body: res.json() as any, text: res.body };
  };
}

describe('fair use: concurrent runs (user 1, project 2)', () => {
  let p: TestPlatform;
  const api = client(() => p);
  let wf = '';
  let assistantId = '';
  const count = async (table: 'workflow_executions' | 'background_tasks' | 'conversations') =>
    Number(
      (
        await p.infra.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const start = (user: Partial<AuthUser>, input: string) => api('POST', `/v1/workflows/${wf}/executions`, user, { user_input: input });
  const status = async (id: string) => (await api('GET', `/v1/workflows/${wf}/executions/${id}`, admin)).body.overall_status as string;
  const finished = (id: string) => until(`execution ${id} to finish`, async () => ((await status(id)) !== 'In Progress' ? status(id) : undefined), 10_000, 25);

  beforeAll(async () => {
    p = await startTestPlatform({
      testAuth: true,
      env: {
        ...writeTestModelsFile(llm, tmp.dir).env,
        CODEMIE_LIMIT_USER_CONCURRENT_RUNS: '1',
        CODEMIE_LIMIT_PROJECT_CONCURRENT_RUNS: '2',
        CODEMIE_LLM_MAX_RETRIES: '0',
        CODEMIE_SHUTDOWN_TIMEOUT_MS: '300',
      },
    });
    const w = await api('POST', '/v1/workflows', admin, { name: 'limits', description: 'd', project: 'demo', shared: true, yaml_config: WORKFLOW });
    expect(w.status, w.text).toBe(200);
    wf = w.body.data.id;
    const a = await api('POST', '/v1/assistants', admin, {
      name: 'limits',
      description: 'd',
      system_prompt: 'Be brief.',
      llm_model_type: 'test-model',
      project: 'demo',
      shared: true,
    });
    expect(a.status, a.text).toBe(200);
    assistantId = a.body.assistantId;
  });
  afterAll(() => p?.stop());

  it("refuses a user's second run with 429 + Retry-After, stores nothing, and accepts the next once the first completes", async () => {
    const first = await start(u('alice'), 'SLOW one');
    expect(first.status, first.text).toBe(200);
    const before = { executions: await count('workflow_executions'), tasks: await count('background_tasks'), conversations: await count('conversations') };

    const second = await start(u('alice'), 'SLOW two');
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('5');
    expect(second.body).toEqual({
      error: {
        message: 'Too many attempts. Please wait and try again later.',
        details: 'Fair-use limit reached: at most 1 concurrent runs per user. Start this one when one of your runs has finished.',
        help: null,
      },
    });
    // A background assistant call is a run too: refused before its task or conversation exists.
    const bg = await api('POST', `/v1/assistants/${assistantId}/model`, u('alice'), { text: 'SLOW bg', background_task: true });
    expect(bg.status).toBe(429);
    expect(bg.body.error.details).toMatch(/at most 1 concurrent runs per user/);
    expect({ executions: await count('workflow_executions'), tasks: await count('background_tasks'), conversations: await count('conversations') }).toEqual(
      before,
    );
    // A synchronous call holds no run slot.
    const sync = await api('POST', `/v1/assistants/${assistantId}/model`, u('alice'), { text: 'quick question' });
    expect(sync.status, sync.text).toBe(200);
    // Admins are exempt.
    const byAdmin = await start(admin, 'SLOW admin');
    expect(byAdmin.status).toBe(200);

    expect(await finished(first.body.execution_id)).toBe('Succeeded');
    const third = await start(u('alice'), 'SLOW three');
    expect(third.status, third.text).toBe(200);
    expect(await finished(third.body.execution_id)).toBe('Succeeded');
    // A background task holds the slot until it completes, then frees it.
    const task = await api('POST', `/v1/assistants/${assistantId}/model`, u('alice'), { text: 'SLOW bg', background_task: true });
    expect(task.status, task.text).toBe(200);
    expect((await start(u('alice'), 'SLOW four')).status).toBe(429);
    await until('the task to complete', async () => (await api('GET', `/v1/tasks/${task.body.taskId}`, u('alice'))).body.status === 'COMPLETED', 10_000, 25);
    const fourth = await start(u('alice'), 'SLOW four');
    expect(fourth.status, fourth.text).toBe(200);
    expect(await finished(fourth.body.execution_id)).toBe('Succeeded');
    expect(await finished(byAdmin.body.execution_id)).toBe('Succeeded');
  });

  it("refuses a project's third run, naming the project; an abort frees the slot", async () => {
    const bob = await start(u('bob'), 'HANG bob');
    const carol = await start(u('carol'), 'HANG carol');
    expect([bob.status, carol.status]).toEqual([200, 200]);
    const dave = await start(u('dave'), 'SLOW dave');
    expect(dave.status).toBe(429);
    expect(dave.headers['retry-after']).toBe('5');
    expect(dave.body.error.details).toBe(
      "Fair-use limit reached: at most 2 concurrent runs in project 'demo'. Start this one when one of the project's runs has finished.",
    );
    expect((await api('PUT', `/v1/workflows/${wf}/executions/${bob.body.execution_id}/abort`, u('bob'))).status).toBe(200);
    const retried = await start(u('dave'), 'SLOW dave');
    expect(retried.status, retried.text).toBe(200);
    expect((await api('PUT', `/v1/workflows/${wf}/executions/${carol.body.execution_id}/abort`, u('carol'))).status).toBe(200);
    expect(await finished(retried.body.execution_id)).toBe('Succeeded');
    const metrics = await (await p.infra.metrics.registry.getSingleMetric('codemie_fair_use_rejections_total')!.get()).values;
    expect(metrics.map((v) => ({ ...v.labels, n: v.value }) as Record<string, unknown>).sort((a, b) => String(a.scope).localeCompare(String(b.scope)))).toEqual(
      [
        { scope: 'project', limit: 'concurrency', n: 1 },
        { scope: 'user', limit: 'concurrency', n: 3 },
      ],
    );
  });

  it('resuming an Interrupted execution is run-starting: refused while the user is at the limit', async () => {
    const hitl = await api('POST', '/v1/workflows', admin, {
      name: 'hitl',
      description: 'd',
      project: 'demo',
      shared: true,
      yaml_config: WORKFLOW.replace('    task: "{{user_input}}"', '    task: "{{user_input}}"\n    interrupt_before: true'),
    });
    const id = hitl.body.data.id;
    const ex = await api('POST', `/v1/workflows/${id}/executions`, u('erin'), { user_input: 'SLOW resume' });
    await until(
      'the interrupt',
      async () => (await api('GET', `/v1/workflows/${id}/executions/${ex.body.execution_id}`, admin)).body.overall_status === 'Interrupted',
      10_000,
      25,
    );
    // Interrupted holds no slot: erin may start another run, which now blocks the resume.
    const other = await start(u('erin'), 'HANG erin');
    expect(other.status, other.text).toBe(200);
    const resume = await api('PUT', `/v1/workflows/${id}/executions/${ex.body.execution_id}/resume`, u('erin'));
    expect(resume.status).toBe(429);
    expect(resume.body.error.details).toMatch(/at most 1 concurrent runs per user/);
    expect((await api('GET', `/v1/workflows/${id}/executions/${ex.body.execution_id}`, admin)).body.overall_status).toBe('Interrupted');
    await api('PUT', `/v1/workflows/${wf}/executions/${other.body.execution_id}/abort`, u('erin'));
    const again = await api('PUT', `/v1/workflows/${id}/executions/${ex.body.execution_id}/resume`, u('erin'));
    expect(again.status, again.text).toBe(200);
    await until(
      'the resumed run to finish',
      async () => (await api('GET', `/v1/workflows/${id}/executions/${ex.body.execution_id}`, admin)).body.overall_status === 'Succeeded',
      10_000,
      25,
    );
  });
});

describe('fair use: request rates (user 3/min, project 2/min)', () => {
  let p: TestPlatform;
  const api = client(() => p);
  let assistantId = '';

  beforeAll(async () => {
    p = await startTestPlatform({
      testAuth: true,
      env: { ...writeTestModelsFile(llm, tmp.dir).env, CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: '3', CODEMIE_LIMIT_PROJECT_REQUESTS_PER_MINUTE: '2' },
    });
    const a = await api('POST', '/v1/assistants', admin, {
      name: 'rate',
      description: 'd',
      system_prompt: 'Be brief.',
      llm_model_type: 'test-model',
      project: 'demo',
      shared: true,
    });
    expect(a.status, a.text).toBe(200);
    assistantId = a.body.assistantId;
  });
  afterAll(() => p?.stop());

  it("refuses a user's requests over the per-minute rate with Retry-After up to the window's end; public routes and other users are unaffected", async () => {
    for (let i = 0; i < 3; i++) expect((await api('GET', '/v1/assistants', u('gil'))).status).toBe(200);
    const over = await api('GET', '/v1/user', u('gil'));
    expect(over.status).toBe(429);
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(58);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(over.body.error.message).toBe('Too many attempts. Please wait and try again later.');
    expect(over.body.error.details).toBe(`Fair-use limit reached: at most 3 requests per minute per user. Retry after ${retryAfter} s.`);
    expect((await api('GET', '/v1/healthcheck', null)).status).toBe(200);
    expect((await api('GET', '/v1/assistants', u('hal'))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await api('GET', '/v1/assistants', admin)).status).toBe(200);
  });

  it('counts run-starting requests refused before admission (404) for the user', async () => {
    for (let i = 0; i < 3; i++) expect((await api('POST', '/v1/assistants/nope/model', u('ivy'), { text: 'x' })).status).toBe(404);
    expect((await api('GET', '/v1/assistants', u('ivy'))).status).toBe(429);
  });

  it("refuses a project's run-starting requests over its rate, naming the project; the user may still use other routes", async () => {
    expect((await api('POST', `/v1/assistants/${assistantId}/model`, u('jo'), { text: 'one' })).status).toBe(200);
    expect((await api('POST', `/v1/assistants/${assistantId}/model`, u('kim'), { text: 'two' })).status).toBe(200);
    const over = await api('POST', `/v1/assistants/${assistantId}/model`, u('kim'), { text: 'PROJRATE third' });
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.body.error.details).toMatch(/^Fair-use limit reached: at most 2 run-starting requests per minute in project 'demo'\. Retry after \d+ s\.$/);
    expect((await api('GET', '/v1/assistants', u('kim'))).status).toBe(200);
    // The refused call never reached the model.
    expect(llm.chatRequests().filter((r) => lastUserText(r).includes('PROJRATE'))).toHaveLength(0);
  });
});
