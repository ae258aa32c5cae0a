/**
 * The reference's workflow contract over HTTP: fenced output_schema, list paging bounds,
 * error_format=json structured details, the `next` combinations it refuses (same texts),
 * execution visibility through the workflow, execution deletion and history clearing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../test/helpers.js';
import { alice, bob, startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';

const FENCED = `
assistants:
  - id: a
    system_prompt: "You extract."
states:
  - id: extract
    assistant_id: a
    task: "Extract"
    output_schema: |
      \`\`\`json
      {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
      \`\`\`
    next:
      state_id: end
`;

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

const ITER_PARALLEL = `
assistants:
  - id: a
    system_prompt: "x"
states:
  - id: split
    assistant_id: a
    next:
      state_ids: [left, right]
      iter_key: items
  - id: left
    assistant_id: a
    next:
      state_id: end
  - id: right
    assistant_id: a
    next:
      state_id: end
`;

const body = (yaml: string, extra: Record<string, unknown> = {}) => ({ name: 'wf', description: 'd', project: 'demo', yaml_config: yaml, ...extra });

describe.each(DB_KINDS)('workflow reference contract (%s)', (db) => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv({ db });
  });
  afterAll(() => env?.close());

  it('accepts an output_schema written as a fenced ```json block, and runs it with that schema', async () => {
    const created = await env.api('POST', '/v1/workflows', body(FENCED));
    expect(created.status).toBe(200);
    const id = created.body.data.id;
    env.llm.script({ text: '{"title": "Hello"}' });
    const ex = await env.execute(id, { user_input: 'go' });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    const req = env.llm.chatRequests().at(-1)!;
    // the schema reached the model as structured output (response_format / tool), not the fence text
    expect(JSON.stringify(req.body)).toContain('"title"');
    expect(JSON.stringify(req.body)).not.toContain('```');
  });

  it('lists with per_page=200 as the reference does', async () => {
    const r = await env.api('GET', '/v1/workflows?page=0&per_page=200');
    expect(r.status).toBe(200);
    expect(r.body.pagination.per_page).toBe(200);
    const ex = await env.api('GET', `/v1/workflows/${await env.createWorkflow(ONE)}/executions?per_page=200`);
    expect(ex.status).toBe(200);
  });

  it('error_format=json gives structured details; string stays a string', async () => {
    const bad = ONE.replace('state_id: end', 'state_id: nowhere');
    const s = await env.api('POST', '/v1/workflows', body(bad));
    expect(s.status).toBe(400);
    expect(s.body.error.message).toBe('Workflow Configuration error');
    expect(typeof s.body.error.details).toBe('string');
    expect(s.body.error.details).toContain("undefined state 'nowhere'");

    const j = await env.api('POST', '/v1/workflows?error_format=json', body(bad));
    expect(j.status).toBe(400);
    const d = j.body.error.details;
    expect(d).toMatchObject({ error_type: 'cross_reference_validation', message: 'Configuration contains cross-reference errors' });
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]).toMatchObject({
      message: 'Invalid reference',
      details: "State 'nowhere' not found",
      state_id: 'only',
      path: 'next.state_id',
      config_line: 9,
    });
    expect(d.errors[0].id).toMatch(/^[0-9a-f-]{36}$/);

    const syntax = await env.api('POST', '/v1/workflows?error_format=json', body('states: [\n  - id: x'));
    expect(syntax.body.error.details).toMatchObject({
      error_type: 'parsing',
      message: 'Invalid YAML format',
      errors: [{ message: 'YAML parsing failed', path: '' }],
    });

    const badType = await env.api('POST', '/v1/workflows?error_format=json', body(ONE.replace('task: "Answer"', 'task: [1, 2]')));
    expect(badType.body.error.details).toMatchObject({
      error_type: 'schema_validation',
      message: 'Configuration contains validation errors',
      errors: [{ message: 'Invalid type (expected string)', path: 'task', state_id: 'only', config_line: 8 }],
    });
    // keys the reference does not know are accepted (and dropped), as its schema allows
    expect((await env.api('POST', '/v1/workflows', body(ONE.replace('task: "Answer"', 'task: "Answer"\n    colour: red')))).status).toBe(200);

    // update takes error_format too; the stored workflow is intact
    const id = await env.createWorkflow(ONE);
    const u = await env.api('PUT', `/v1/workflows/${id}?error_format=json`, body(bad));
    expect(u.status).toBe(400);
    expect(u.body.error.details.error_type).toBe('cross_reference_validation');
    expect((await env.api('GET', `/v1/workflows/id/${id}`)).body.yaml_config).toBe(ONE);

    const badFormat = await env.api('POST', '/v1/workflows?error_format=xml', body(ONE));
    expect(badFormat.status).toBe(422);
  });

  it('refuses iter_key with parallel state_ids (and the other exclusive next keys) with the reference texts', async () => {
    const r = await env.api('POST', '/v1/workflows', body(ITER_PARALLEL));
    expect(r.status).toBe(400);
    expect(r.body.error.details).toContain("In 'states[0].next': 'state_ids' and 'iter_key' cannot be set at the same time");
    const j = await env.api('POST', '/v1/workflows?error_format=json', body(ITER_PARALLEL));
    expect(j.body.error.details).toMatchObject({
      error_type: 'schema_validation',
      errors: [{ message: 'Invalid combination', details: "Cannot set 'state_ids' and 'iter_key' at the same time", state_id: 'split', path: 'next' }],
    });
    const condIter = ITER_PARALLEL.replace(
      'state_ids: [left, right]\n      iter_key: items',
      'state_id: left\n      iter_key: items\n      condition: {expression: "a == 1", then: left, otherwise: right}',
    );
    const c = await env.api('POST', '/v1/workflows', body(condIter));
    expect(c.body.error.details).toContain("'iter_key' and 'condition' cannot be set at the same time");
    const noState = ITER_PARALLEL.replace(
      'state_ids: [left, right]\n      iter_key: items',
      'iter_key: items\n      switch: {cases: [{condition: "a == 1", state_id: left}], default: right}',
    );
    const n = await env.api('POST', '/v1/workflows', body(noState));
    expect(n.body.error.details).toContain("'iter_key' and 'switch' cannot be set at the same time");
  });

  it('executions of an unshared workflow are hidden from project members who cannot see it', async () => {
    const id = await env.createWorkflow(ONE, alice, { shared: false });
    const ex = await env.execute(id, { user_input: 'secret input' });
    await env.waitFor(id, ex.execution_id, ['Succeeded']);
    expect((await env.api('GET', `/v1/workflows/id/${id}`, undefined, bob)).status).toBe(403);
    for (const url of [
      `/v1/workflows/${id}/executions`,
      `/v1/workflows/${id}/executions/${ex.execution_id}`,
      `/v1/workflows/${id}/executions/${ex.execution_id}/states`,
      `/v1/workflows/${id}/executions/${ex.execution_id}/transitions`,
    ]) {
      const r = await env.api('GET', url, undefined, bob);
      expect(r.status, url).toBe(403);
      expect(r.text).not.toContain('secret input');
    }
    const states = await env.states(id, ex.execution_id);
    const out = await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}/states/${states[0].id}/output`, undefined, bob);
    expect(out.status).toBe(403);
    const th = await env.api('POST', `/v1/workflows/${id}/executions/${ex.execution_id}/thoughts`, [], bob);
    expect(th.status).toBe(403);
    // alice (owner) still reads everything
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`)).body.prompt).toBe('secret input');
  });

  it('deletes an execution (not one of a conversation) and clears the history as the reference', async () => {
    const id = await env.createWorkflow(ONE);
    const plain = await env.execute(id, { user_input: 'one' });
    const conv = await env.execute(id, { user_input: 'two', conversation_id: 'conv-1' });
    await env.waitFor(id, plain.execution_id, ['Succeeded']);
    await env.waitFor(id, conv.execution_id, ['Succeeded']);
    const refused = await env.api('DELETE', `/v1/workflows/${id}/executions/${conv.execution_id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      message: 'Cannot delete workflow execution',
      details: 'This workflow execution is part of a conversation and cannot be deleted. ',
    });
    const third = await env.execute(id, { user_input: 'three' });
    await env.waitFor(id, third.execution_id, ['Succeeded']);
    const del = await env.api('DELETE', `/v1/workflows/${id}/executions/${third.execution_id}`);
    expect(del.body).toEqual({ message: 'Execution removed' });
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${third.execution_id}`)).status).toBe(404);

    const cleared = await env.api('DELETE', `/v1/workflows/${id}/executions`);
    expect(cleared.body).toEqual({ message: 'Execution history cleared' });
    const left = (await env.api('GET', `/v1/workflows/${id}/executions`)).body.data.map((e: { execution_id: string }) => e.execution_id);
    expect(left).toEqual([conv.execution_id]);
  });

  it('chat mode: a conversation_id carries the earlier turns into the next run, as the reference', async () => {
    const id = await env.createWorkflow(ONE);
    const first = await env.execute(id, { user_input: 'my name is Ann', conversation_id: 'chat-1' });
    await env.waitFor(id, first.execution_id, ['Succeeded']);
    const second = await env.execute(id, { user_input: 'what is my name?', conversation_id: 'chat-1' });
    const done = await env.waitFor(id, second.execution_id, ['Succeeded']);
    expect(done.conversation_id).toBe('chat-1');
    expect(done.prompt).toBe(
      '# Previous Workflow Executions\n\n\n## Execution 1\n**User Input:** my name is Ann\n**Workflow Output:** Echo: Answer\n\n\n## Current Request\nwhat is my name?',
    );
    const sent = env.llm.chatRequests().at(-1)!;
    expect(JSON.stringify(sent.messages)).toContain('my name is Ann');
    // another user's run in a conversation of the same id sees none of it
    const other = await env.execute(id, { user_input: 'hello', conversation_id: 'chat-1' }, bob);
    expect(other.prompt).toBe('hello');
    // '' starts a new conversation with a fresh id
    const fresh = await env.execute(id, { user_input: 'hi', conversation_id: '' });
    expect(fresh.conversation_id).toMatch(/^[0-9a-f-]{36}$/);
    await env.waitFor(id, fresh.execution_id, ['Succeeded']);
  });
});
