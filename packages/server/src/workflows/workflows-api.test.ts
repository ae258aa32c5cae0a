/** Workflows CRUD and executions API: statuses, ACL, abort, resume, streaming, failures, restart recovery. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../test/helpers.js';
import type { RecordedRequest } from '../../test/llm-server.js';
import { alice, bob, eve, startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';
import type { AgentTool } from '../llm/tool.js';
import type { Observation } from '../trace/tracer.js';

const sys = (r: RecordedRequest) => String(r.messages.find((m) => m.role === 'system')?.content ?? '');

const ONE = `
assistants:
  - id: a
    system_prompt: "ROLE one"
states:
  - id: only
    assistant_id: a
    task: "Answer"
    next:
      state_id: end
`;

const SLOW_TWO = `
assistants:
  - id: a
    system_prompt: "ROLE slow"
states:
  - id: s1
    assistant_id: a
    task: "first"
    next:
      state_id: s2
  - id: s2
    assistant_id: a
    task: "second"
    next:
      state_id: end
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('workflows API (%s)', (db) => {
  let env: WorkflowEnv;
  const opened: Array<{ servers: unknown[]; headers: Record<string, string> | null; user: string }> = [];
  const echoTool: AgentTool = {
    name: 'lookup',
    description: 'test tool',
    inputSchema: { type: 'object' },
    async execute(args) {
      return { output: JSON.stringify({ data: { echoed: args } }), isError: false };
    },
  };
  beforeAll(async () => {
    env = await startWorkflowEnv({
      db,
      module: () => ({
        assistants: {
          get: async (aid) =>
            aid === 'existing-1' ? { id: aid, name: 'Stored', system_prompt: 'ROLE stored assistant', temperature: 0.7, mcp_servers: [] } : null,
        },
        openToolset: async (servers, o) => {
          opened.push({ servers, headers: o.propagatedHeaders, user: o.user.id });
          return { tools: servers.length ? [echoTool] : [], warnings: [], close: async () => undefined };
        },
      }),
    });
  });
  afterAll(() => env?.close());
  beforeEach(() => env.llm.reset());

  it('CRUD with messages, ACL (403), 404, 401, 422 and filters', async () => {
    const created = await env.api('POST', '/v1/workflows', { name: 'Mine', description: 'd', project: 'demo', yaml_config: ONE, shared: true });
    expect(created.status).toBe(200);
    expect(created.body.message).toBe('Workflow created successfully');
    const wf = created.body.data;
    expect(wf).toMatchObject({
      name: 'Mine',
      project: 'demo',
      shared: true,
      mode: 'Sequential',
      created_by: { user_id: 'alice' },
      user_abilities: ['read', 'write', 'delete'],
      yaml_config: ONE,
    });
    expect(wf.states[0].id).toBe('only');

    const got = await env.api('GET', `/v1/workflows/id/${wf.id}`, undefined, bob);
    expect(got.status).toBe(200);
    expect(got.body.user_abilities).toEqual(['read']);
    expect((await env.api('GET', `/v1/workflows/id/${wf.id}`, undefined, eve)).status).toBe(403);
    expect((await env.api('GET', `/v1/workflows/id/${wf.id}`, undefined, null)).status).toBe(401);
    const missing = await env.api('GET', '/v1/workflows/id/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Workflow not found');

    const upd = await env.api('PUT', `/v1/workflows/${wf.id}`, { name: 'Renamed', description: 'd', project: 'demo', yaml_config: ONE, shared: false });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ message: 'Workflow updated successfully', data: { name: 'Renamed', shared: false } });
    const denied = await env.api('PUT', `/v1/workflows/${wf.id}`, { name: 'x', description: 'd', project: 'demo', yaml_config: ONE }, bob);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe('Access denied');
    expect((await env.api('GET', `/v1/workflows/id/${wf.id}`, undefined, bob)).status).toBe(403); // no longer shared

    const badCfg = await env.api('PUT', `/v1/workflows/${wf.id}`, {
      name: 'x',
      description: 'd',
      project: 'demo',
      yaml_config: ONE.replace('state_id: end', 'state_id: ghost'),
    });
    expect(badCfg.status).toBe(400);
    expect(badCfg.body.error).toMatchObject({ message: 'Workflow Configuration error' });
    expect(badCfg.body.error.details).toContain("transitions to undefined state 'ghost'");

    expect((await env.api('POST', '/v1/workflows', { name: 'x', description: 'd', project: 'other', yaml_config: ONE })).status).toBe(403);
    expect((await env.api('POST', '/v1/workflows', { description: 'd', project: 'demo' })).status).toBe(422);

    const list = await env.api('GET', `/v1/workflows?per_page=5&filters=${encodeURIComponent(JSON.stringify({ name: 'Renamed' }))}`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((w: any) => w.id)).toEqual([wf.id]);
    expect(list.body.pagination).toMatchObject({ page: 0, per_page: 5, total: 1, pages: 1 });
    expect((await env.api('GET', '/v1/workflows', undefined, eve)).body.data.find((w: any) => w.id === wf.id)).toBeUndefined();
    expect((await env.api('GET', '/v1/workflows?filters=notjson')).status).toBe(400);

    expect((await env.api('DELETE', `/v1/workflows/${wf.id}`, undefined, bob)).status).toBe(403);
    const del = await env.api('DELETE', `/v1/workflows/${wf.id}`);
    expect(del.body).toEqual({ message: 'Specified workflow removed' });
    expect((await env.api('GET', `/v1/workflows/id/${wf.id}`)).status).toBe(404);
  });

  it('executions: record, statuses, list, thoughts, delete; 404/403/422/400', async () => {
    const id = await env.createWorkflow(ONE);
    expect((await env.api('POST', '/v1/workflows/nope/executions', { user_input: 'x' })).status).toBe(404);
    expect((await env.api('POST', `/v1/workflows/${id}/executions`, { user_input: 'x' }, eve)).status).toBe(403);
    expect((await env.api('POST', `/v1/workflows/${id}/executions`, { user_input: 'x' }, null)).status).toBe(401);
    expect((await env.api('POST', `/v1/workflows/${id}/executions`, { user_input: 'x', tags: 'notalist' })).status).toBe(422);

    const ex = await env.execute(id, { user_input: 'hello' });
    expect(ex).toMatchObject({ id: ex.execution_id, overall_status: 'In Progress', prompt: 'hello', file_names: [], created_by: { user_id: 'alice' } });
    expect(ex.session_id).toBe(ex.execution_id);
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded']);
    expect(done.output).toBe('Echo: Answer');

    const list = await env.api('GET', `/v1/workflows/${id}/executions`);
    expect(list.body.data.map((e: any) => e.execution_id)).toContain(ex.execution_id);
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`, undefined, eve)).status).toBe(403);
    expect((await env.api('GET', `/v1/workflows/${id}/executions/unknown`)).status).toBe(404);
    // Project members may read, not modify.
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`, undefined, bob)).status).toBe(200);
    expect((await env.api('DELETE', `/v1/workflows/${id}/executions/${ex.execution_id}`, undefined, bob)).status).toBe(403);

    const thoughts = await env.api('POST', `/v1/workflows/${id}/executions/${ex.execution_id}/thoughts`, []);
    expect(thoughts.status).toBe(200);
    expect(thoughts.body[0]).toMatchObject({ author_name: 'a', author_type: 'Agent', content: 'Echo: Answer', children: [] });
    const one = await env.api('POST', `/v1/workflows/${id}/executions/${ex.execution_id}/thoughts`, [thoughts.body[0].id]);
    expect(one.body).toHaveLength(1);

    const states = await env.states(id, ex.execution_id);
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}/states/${states[0].id}/output`)).body).toEqual({ output: 'Echo: Answer' });
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}/states/nope/output`)).status).toBe(404);

    // Resume / abort / edit of a finished run → 400.
    expect((await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/resume`)).status).toBe(400);
    expect((await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/abort`)).status).toBe(400);
    expect((await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/output`, { state_id: states[0].id, output: 'x' })).status).toBe(400);
    expect((await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/output`, { state_id: states[0].id, output: '' })).status).toBe(422);

    expect((await env.api('DELETE', `/v1/workflows/${id}/executions/${ex.execution_id}`)).body).toEqual({ message: 'Execution removed' });
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`)).status).toBe(404);
    await env.execute(id, { user_input: 'again' });
    expect((await env.api('DELETE', `/v1/workflows/${id}/executions`)).body).toEqual({ message: 'Execution history cleared' });
    expect((await env.api('GET', `/v1/workflows/${id}/executions`)).body.pagination.total).toBe(0);
  });

  it('abort a running execution → Aborted; the in-flight state is Aborted', async () => {
    const id = await env.createWorkflow(SLOW_TWO);
    env.llm.rule(() => ({ hang: true }));
    const ex = await env.execute(id);
    for (let i = 0; i < 100 && !env.llm.chatRequests().length; i++) await sleep(20);
    const r = await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/abort`);
    expect(r.body).toEqual({ message: 'Workflow execution has been aborted' });
    const done = await env.waitFor(id, ex.execution_id, ['Aborted']);
    expect(done.overall_status).toBe('Aborted');
    await sleep(100);
    const states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => [s.name, s.status])).toEqual([['s1', 'Aborted']]);
  });

  it('failures: retry_policy retries 5xx, never 401; recursion limit fails with a clear reason', async () => {
    const retrying = ONE.replace('states:', 'retry_policy:\n  max_attempts: 3\n  initial_interval: 0.01\nstates:');
    const id = await env.createWorkflow(retrying);
    env.llm.script({ status: 500, error: 'boom' }, { status: 500, error: 'boom' });
    const ex = await env.execute(id);
    expect((await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');

    env.llm.reset();
    env.llm.rule(() => ({ status: 401, error: 'bad key' }));
    const ex2 = await env.execute(id);
    const failed = await env.waitFor(id, ex2.execution_id, ['Succeeded', 'Failed']);
    expect(failed.overall_status).toBe('Failed');
    expect(failed.output).toMatch(/State 'only' failed/);
    expect(env.llm.chatRequests()).toHaveLength(1);

    env.llm.reset();
    const loop = `
recursion_limit: 3
assistants:
  - id: a
    system_prompt: loop
states:
  - id: again
    assistant_id: a
    next:
      condition:
        expression: "done == True"
        then: end
        otherwise: again
`;
    const lid = await env.createWorkflow(loop);
    const ex3 = await env.execute(lid);
    const rl = await env.waitFor(lid, ex3.execution_id, ['Succeeded', 'Failed']);
    expect(rl.overall_status).toBe('Failed');
    expect(rl.output).toMatch(/Recursion limit of 3 reached/);
  });

  it('tool nodes call the MCP tool with templated args and a JSON pointer', async () => {
    const yaml = `
tools:
  - id: t
    tool: lookup
    tool_args:
      query: "{{q}}"
      n: "{{n}}"
    tool_result_json_pointer: /data/echoed
    mcp_server:
      name: test
      config:
        url: http://127.0.0.1:1/mcp
states:
  - id: call
    tool_id: t
    next:
      state_id: end
`;
    const id = await env.createWorkflow(yaml);
    const r = await env.api('POST', `/v1/workflows/${id}/executions`, { user_input: '{"q":"cats","n":3}', propagate_headers: true }, alice, {
      'x-tenant-id': 't-42',
      'x-api-key': 'secret',
      'x-forwarded-for': '1.2.3.4',
    });
    const done = await env.waitFor(id, r.body.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    expect(JSON.parse(done.output)).toEqual({ query: 'cats', n: 3 });
    // X- headers reach the MCP layer (minus the blocklist) only when propagate_headers is set.
    const call = opened.at(-1)!;
    expect(call.headers).toEqual({ 'x-tenant-id': 't-42' });
    expect(call.user).toBe('alice');
    expect(call.servers).toEqual([expect.objectContaining({ name: 'test' })]);
    const r2 = await env.api('POST', `/v1/workflows/${id}/executions`, { user_input: '{"q":"dogs"}' }, alice, { 'x-tenant-id': 't-42' });
    await env.waitFor(id, r2.body.execution_id, ['Succeeded', 'Failed']);
    expect(opened.at(-1)!.headers).toBeNull();
  });

  it('streams state events and thoughts (SSE default, NDJSON on Accept) ending with last: true', async () => {
    const id = await env.createWorkflow(ONE);
    const res = await fetch(`${env.platform.url}/v1/workflows/${id}/executions`, {
      method: 'POST',
      headers: { ...(await import('../../test/helpers.js')).testAuthHeaders(alice), 'content-type': 'application/json' },
      body: JSON.stringify({ user_input: 'hi', stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text();
    const chunks = text
      .split('\n\n')
      .filter((b) => b.includes('data: '))
      .map((b) => JSON.parse(b.split('data: ')[1]));
    const execId = chunks[0].workflow_execution_id;
    expect(chunks.every((c) => c.workflow_execution_id === execId)).toBe(true);
    expect(chunks[0].workflow_state).toMatchObject({ name: 'only', status: 'In Progress', event_type: 'state_start' });
    expect(chunks.some((c) => c.thought?.author_name === 'a' && c.context?.execution_state_id)).toBe(true);
    expect(chunks.some((c) => c.workflow_state?.event_type === 'state_finish' && c.workflow_state.status === 'Succeeded')).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'Echo: Answer' });

    // NDJSON + interrupt + resume?stream=true
    const hitl = `
assistants:
  - id: a
    system_prompt: x
states:
  - id: one
    assistant_id: a
    task: first
    next:
      state_id: two
  - id: two
    assistant_id: a
    task: second
    interrupt_before: true
    next:
      state_id: end
`;
    const hid = await env.createWorkflow(hitl);
    const auth = (await import('../../test/helpers.js')).testAuthHeaders(alice);
    const r1 = await fetch(`${env.platform.url}/v1/workflows/${hid}/executions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ stream: true }),
    });
    expect(r1.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await r1.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({
      last: true,
      generated: 'Echo: first',
      workflow_state: { name: 'two', status: 'Interrupted', event_type: 'state_interrupted' },
    });
    const hexec = lines[0].workflow_execution_id;
    const r2 = await fetch(`${env.platform.url}/v1/workflows/${hid}/executions/${hexec}/resume?stream=true`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ user_input: 'approved' }),
    });
    const lines2 = (await r2.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines2[0].workflow_state).toMatchObject({ name: 'two', event_type: 'state_start' });
    expect(lines2.at(-1)).toMatchObject({ last: true, generated: 'Echo: second' });
    // The resume input reached the model as a human message.
    const lastReq = env.llm.chatRequests().at(-1)!;
    expect(lastReq.messages.map((m) => m.content)).toContain('approved');
  });

  it('restart recovery: a run in progress continues after a restart; no state finishes twice', async () => {
    const id = await env.createWorkflow(SLOW_TWO);
    let calls = 0;
    env.llm.rule((r) => (sys(r).includes('slow') ? (++calls === 2 ? { hang: true } : { text: `answer ${calls}` }) : null));
    const ex = await env.execute(id);
    for (let i = 0; i < 200 && calls < 2; i++) await sleep(20);
    expect(calls).toBe(2); // s1 finished, s2 is in flight
    await env.restart(); // shutdown signal: the run stays In Progress
    const mid = await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`);
    expect(['In Progress', 'Succeeded']).toContain(mid.body.overall_status);
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    expect(done.output).toBe('answer 3');
    const states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => [s.name, s.status])).toEqual([
      ['s1', 'Succeeded'],
      ['s2', 'Succeeded'],
    ]);
    // s1 ran once (1 request), s2 twice (cut by the restart, then re-run): never finished twice.
    expect(calls).toBe(3);

    // An Interrupted run stays resumable across a restart.
    const hitl = await env.createWorkflow(SLOW_TWO.replace('    task: "second"', '    task: "second"\n    interrupt_before: true'));
    env.llm.reset();
    const ex2 = await env.execute(hitl);
    await env.waitFor(hitl, ex2.execution_id, ['Interrupted']);
    await env.restart();
    expect((await env.api('GET', `/v1/workflows/${hitl}/executions/${ex2.execution_id}`)).body.overall_status).toBe('Interrupted');
    expect((await env.api('PUT', `/v1/workflows/${hitl}/executions/${ex2.execution_id}/resume`)).status).toBe(200);
    const resumed = await env.waitFor(hitl, ex2.execution_id, ['Succeeded', 'Failed']);
    expect(resumed.output).toBe('Echo: second');
  });

  it('restart recovery replays every step finished since the last checkpoint (fan-out and join included), each once', async () => {
    const yaml = `
assistants:
  - id: a
    system_prompt: "ROLE deep"
states:
  - {id: s1, assistant_id: a, task: "one", next: {state_ids: [l, r]}}
  - {id: l, assistant_id: a, task: "left", next: {state_id: j}}
  - {id: r, assistant_id: a, task: "right", next: {state_id: j}}
  - {id: j, assistant_id: a, task: "join", next: {state_id: s4, output_key: joined}}
  - {id: s4, assistant_id: a, task: "four {{joined}}", next: {state_id: end}}
`;
    const id = await env.createWorkflow(yaml);
    const asked: string[] = [];
    let hangFour = true;
    env.llm.rule((r) => {
      if (!sys(r).includes('deep')) return null;
      const last = String(r.messages.at(-1)?.content ?? '');
      asked.push(last.split(' ')[0]);
      if (last.startsWith('four') && hangFour) return { hang: true };
      return { text: `${last.split(' ')[0]}-done`, usage: { prompt_tokens: 10, completion_tokens: 1 } };
    });
    const ex = await env.execute(id);
    for (let i = 0; i < 300 && !asked.includes('four'); i++) await sleep(20);
    expect(asked.slice().sort()).toEqual(['four', 'join', 'left', 'one', 'right']);
    hangFour = false;
    await env.restart(); // s1, l, r and j finished (3 steps without a checkpoint write); s4 was in flight
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    expect(done.output).toBe('four-done');
    // Only s4 ran again; the context store (output_key of j) was rebuilt from the replayed rows.
    expect(asked.filter((x) => x === 'four')).toHaveLength(2);
    expect(asked).toHaveLength(6);
    expect(
      env.llm
        .chatRequests()
        .filter((r) => sys(r).includes('deep'))
        .at(-1)!
        .messages.at(-1)!.content,
    ).toBe('four join-done');
    const states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => [s.name, s.status])).toEqual([
      ['s1', 'Succeeded'],
      ['l', 'Succeeded'],
      ['r', 'Succeeded'],
      ['j', 'Succeeded'],
      ['s4', 'Succeeded'],
    ]);
    // Token usage adds up every finished state once (the cut s4 attempt reported none).
    expect(done.tokens_usage).toMatchObject({ input_tokens: 50, output_tokens: 5 });

    // The usage of the states before an interrupt is kept across the interrupt and resume.
    const hitl = await env.createWorkflow(yaml.replace('task: "join", next:', 'task: "join", interrupt_before: true, next:'));
    const ex2 = await env.execute(hitl);
    const paused = await env.waitFor(hitl, ex2.execution_id, ['Interrupted']);
    expect(paused.tokens_usage).toMatchObject({ input_tokens: 30, output_tokens: 3 });
    expect((await env.api('PUT', `/v1/workflows/${hitl}/executions/${ex2.execution_id}/resume`)).status).toBe(200);
    const resumed = await env.waitFor(hitl, ex2.execution_id, ['Succeeded', 'Failed']);
    expect(resumed.overall_status).toBe('Succeeded');
    expect(resumed.tokens_usage).toMatchObject({ input_tokens: 50, output_tokens: 5 });
  });

  it('assistants: an existing assistant by assistant_id; unknown models are rejected at save time', async () => {
    const yaml = (aid: string) => `
assistants:
  - id: x
    assistant_id: ${aid}
states:
  - id: s
    assistant_id: x
    task: hi
    next:
      state_id: end
`;
    const id = await env.createWorkflow(yaml('existing-1'));
    const ex = await env.execute(id);
    expect((await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');
    const req = env.llm.chatRequests().at(-1)!;
    expect(sys(req)).toBe('ROLE stored assistant');
    expect(req.body.temperature).toBe(0.7);
    const states = await env.states(id, ex.execution_id);
    expect(states[0].thoughts[0].author_name).toBe('Stored');

    const missing = await env.createWorkflow(yaml('gone'));
    const ex2 = await env.execute(missing);
    const failed = await env.waitFor(missing, ex2.execution_id, ['Succeeded', 'Failed']);
    expect(failed.output).toMatch(/Assistant 'gone' .* was not found/);

    const bad = await env.api('POST', '/v1/workflows', {
      name: 'm',
      description: 'd',
      project: 'demo',
      yaml_config: ONE.replace('system_prompt:', 'model: no-such-model\n    system_prompt:'),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toMatch(/Assistant 'a' uses model 'no-such-model', which is not available/);
  });

  it('traces each execution (session id, tags) with a span per state', async () => {
    const events: Array<{ kind: string; name?: string; data?: any }> = [];
    const obs = (name: string): Observation => ({
      traceId: 't',
      child: (n, start) => (events.push({ kind: 'child', name: n, data: start }), obs(n)),
      update: () => undefined,
      end: (u) => void events.push({ kind: 'end', name, data: u }),
    });
    const original = env.platform.infra.tracer;
    env.platform.infra.tracer = {
      enabled: true,
      startTrace: (t) => (events.push({ kind: 'trace', data: t }), obs('trace')),
      flush: async () => undefined,
      shutdown: async () => undefined,
    };
    try {
      const id = await env.createWorkflow(SLOW_TWO);
      const ex = await env.execute(id, { user_input: 'q', session_id: 'sess-9', tags: ['x'] });
      await env.waitFor(id, ex.execution_id, ['Succeeded']);
      await sleep(50);
    } finally {
      env.platform.infra.tracer = original;
    }
    expect(events[0]).toMatchObject({ kind: 'trace', data: { sessionId: 'sess-9', tags: ['x'], userId: 'alice', input: 'q' } });
    // A span per state, each with its LLM generation nested (recorded by the instrumented LLM layer).
    expect(events.filter((e) => e.kind === 'child').map((e) => e.name)).toEqual(['s1', 'llm: test-model', 's2', 'llm: test-model']);
    expect(events.find((e) => e.kind === 'end' && e.name === 's2')?.data).toEqual({ output: 'Echo: second' });
    expect(events.at(-1)).toMatchObject({ kind: 'end', name: 'trace', data: { output: 'Echo: second' } });
  });

  it("accepts the Python SDK's payloads (nulls, categories, dict user_input, project query)", async () => {
    const created = await env.api('POST', '/v1/workflows', {
      project: 'demo',
      name: 'sdk',
      description: null,
      yaml_config: ONE,
      mode: 'Sequential',
      shared: false,
      icon_url: null,
      categories: [],
    });
    expect(created.status).toBe(200);
    const id = created.body.data.id;
    expect(created.body.data.description).toBe('');
    const listed = await env.api('GET', '/v1/workflows?page=0&per_page=10&project=demo&filter_by_user=true');
    expect(listed.body.data.map((w: any) => w.id)).toContain(id);
    expect((await env.api('GET', '/v1/workflows?project=other')).body.data).toEqual([]);
    const run = await env.api('POST', `/v1/workflows/${id}/executions`, {
      user_input: null,
      file_name: null,
      file_names: null,
      conversation_id: null,
      session_id: null,
      propagate_headers: false,
      tags: null,
    });
    expect(run.status).toBe(200);
    expect(run.body.prompt).toBe('');
    await env.waitFor(id, run.body.execution_id, ['Succeeded']);
    const dict = await env.api('POST', `/v1/workflows/${id}/executions`, { user_input: { topic: 'x' } });
    expect(dict.body.prompt).toBe('{"topic":"x"}');
    await env.waitFor(id, dict.body.execution_id, ['Succeeded']);
    // Resume with the SDK's empty body on a finished run → 400 (not 422).
    expect((await env.api('PUT', `/v1/workflows/${id}/executions/${dict.body.execution_id}/resume?propagate_headers=false`, {})).status).toBe(400);
  });
});
