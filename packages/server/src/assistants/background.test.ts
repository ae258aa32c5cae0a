/**
 * Background tasks: `background_task: true` answers at once with a taskId, the run goes
 * through ctx.runs, GET /v1/tasks/{id} reports it; STARTED tasks survive a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, freshPostgres, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';
import { http } from '../../test/sse.js';

let llm: TestLlmServer;
const tmp = tempDir('codemie-assistant-bg-');
const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  llm = await startTestLlmServer();
});
afterAll(async () => {
  await llm.close();
  tmp.cleanup();
});

async function waitFor<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const getTask = (p: TestPlatform, id: string, headers = alice) => http(`${p.url}/v1/tasks/${id}`, { headers });

describe.each(DB_KINDS)('background tasks (%s)', (db) => {
  let platform: TestPlatform;
  let assistantId: string;
  let env: Record<string, string>;
  let pg: { url: string; drop: () => Promise<void> } | undefined;
  const dataDir = tempDir('codemie-assistant-bg-data-');

  // The same data dir (and database) across restarts.
  beforeAll(async () => {
    if (db === 'postgres') pg = await freshPostgres();
    env = {
      ...writeTestModelsFile(llm, tmp.dir).env,
      CODEMIE_DATA_DIR: dataDir.dir,
      CODEMIE_SHUTDOWN_TIMEOUT_MS: '400',
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    };
  });
  afterAll(async () => {
    await pg?.drop();
    dataDir.cleanup();
  });

  it('answers at once with a taskId; the task completes and its turn is saved', async () => {
    llm.reset();
    platform = await startTestPlatform({ testAuth: true, listen: true, env });
    const created = await http(`${platform.url}/v1/assistants`, {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ name: 'Bg', system_prompt: 'x', llm_model_type: 'test-model' }),
    });
    assistantId = (await created.json()).assistantId;
    llm.script({ text: 'done in background', firstTokenDelayMs: 200 });
    const res = await http(`${platform.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ text: 'work', background_task: true }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ generated: 'Task is running in the background', timeElapsed: 0, success: true });
    expect(body.taskId).toMatch(/^[0-9a-f-]{36}$/);

    const running = await (await getTask(platform, body.taskId)).json();
    expect(running).toMatchObject({ id: body.taskId, task: 'work', status: 'STARTED', user: { user_id: 'alice', username: 'alice', name: 'Alice' } });
    const done = await waitFor(async () => {
      const t = await (await getTask(platform, body.taskId)).json();
      return t.status === 'STARTED' ? undefined : t;
    });
    expect(done).toMatchObject({ status: 'COMPLETED', final_output: 'done in background' });
    expect(Object.keys(done).sort()).toEqual(['current_step', 'date', 'final_output', 'id', 'status', 'task', 'update_date', 'user']);

    const convs = await (await http(`${platform.url}/v1/conversations`, { headers: alice })).json();
    const detail = await (await http(`${platform.url}/v1/conversations/${convs[0].id}`, { headers: alice })).json();
    expect(detail.history.map((m: { message: string }) => m.message)).toEqual(['work', 'done in background']);
  });

  it('404 "Task not found" for an unknown id and for another user\'s task; a provider failure fails the task', async () => {
    llm.script({ status: 401 });
    const res = await http(`${platform.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ text: 'fail', backgroundTask: true }),
    });
    const { taskId } = await res.json();
    const failed = await waitFor(async () => {
      const t = await (await getTask(platform, taskId)).json();
      return t.status === 'STARTED' ? undefined : t;
    });
    expect(failed.status).toBe('FAILED');
    expect(failed.final_output).toContain('llm_auth_failed');
    const other = await getTask(platform, taskId, bob);
    expect(other.status).toBe(404);
    const unknown = await getTask(platform, 'nope');
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toBe('Task not found');
  });

  it('a task still STARTED at shutdown runs again after a restart on the same data dir', async () => {
    llm.reset();
    llm.script({ hang: true });
    const res = await http(`${platform.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, ...json },
      body: JSON.stringify({ text: 'survive', background_task: true }),
    });
    const { taskId } = await res.json();
    await waitFor(async () => (llm.chatRequests().length ? true : undefined));
    await platform.stop();

    llm.script({ text: 'survived the restart' });
    platform = await startTestPlatform({ testAuth: true, listen: true, env });
    const t = await waitFor(async () => {
      const r = await (await getTask(platform, taskId)).json();
      return r.status === 'STARTED' ? undefined : r;
    });
    expect(t).toMatchObject({ status: 'COMPLETED', final_output: 'survived the restart' });
    await platform.stop();
  });

  it('a task that cannot run again (restarted too often) is FAILED with a reason at start-up', async () => {
    platform = await startTestPlatform({ testAuth: true, listen: false, env });
    const { tasks } = platform.services;
    const row = await tasks.create(
      'assistant-task',
      { id: 'alice', username: 'alice', name: 'Alice', email: '', roles: [], projects: ['demo'], adminProjects: [], isAdmin: false, userType: 'regular' },
      'stuck',
      {
        assistantId,
        body: { text: 'stuck' },
        user: { id: 'alice' },
        conversationId: '11111111-1111-1111-1111-111111111111',
        propagatedHeaders: null,
        attempts: 3,
      },
    );
    await platform.stop();
    platform = await startTestPlatform({ testAuth: true, listen: true, env });
    const t = await (await getTask(platform, row.id)).json();
    expect(t.status).toBe('FAILED');
    expect(t.final_output).toMatch(/restart/);
    await platform.stop();
  });
});
