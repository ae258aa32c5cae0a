/** The example workflows under examples/workflows/ run end to end against the test LLM server. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from './helpers.js';
import type { RecordedRequest } from './llm-server.js';
import { startWorkflowEnv, type WorkflowEnv } from './workflows-harness.js';

const example = (name: string) => readFileSync(path.join(__dirname, '../../../examples/workflows', name), 'utf8');
const sys = (r: RecordedRequest) => String(r.messages.find((m) => m.role === 'system')?.content ?? '');
const lastUser = (r: RecordedRequest) => String([...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '');

describe.each(DB_KINDS)('example workflows (%s)', (db) => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv({ db });
  });
  afterAll(() => env?.close());
  beforeEach(() => env.llm.reset());

  it('sequential: templating from the context store; output is the last state output', async () => {
    const id = await env.createWorkflow(example('sequential.yaml'));
    const ex = await env.execute(id, { user_input: '{"topic": "tea"}', tags: ['t1'], session_id: 's-1' });
    expect(ex).toMatchObject({ overall_status: 'In Progress', workflow_id: id, session_id: 's-1', tags: ['t1'], output: null });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    expect(done.output).toBe('Echo: Improve this slogan: Echo: Write a one-line slogan about tea');
    expect(done.tokens_usage.input_tokens).toBeGreaterThan(0);
    const states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => [s.name, s.status])).toEqual([
      ['draft', 'Succeeded'],
      ['review', 'Succeeded'],
    ]);
    expect(states[1].preceding_state_ids).toEqual([states[0].id]);
    expect(states[0].thoughts[0]).toMatchObject({ author_name: 'writer', author_type: 'Agent' });
    const reqs = env.llm.chatRequests();
    expect(sys(reqs[0])).toBe('You write short drafts.');
    expect(reqs[1].body.temperature).toBe(0.2);
  });

  it('condition + switch with structured output merged into the context store', async () => {
    const id = await env.createWorkflow(example('condition-switch.yaml'));
    env.llm.rule((r) => (sys(r).includes('classifier') ? { text: lastUser(r).includes('refund') ? '{"urgent":false,"category":"billing"}' : lastUser(r).includes('crash') ? '{"urgent":false,"category":"Technical"}' : '{"urgent":true,"category":"other"}' } : null));
    const run = async (ticket: string) => {
      const ex = await env.execute(id, { user_input: JSON.stringify({ ticket }) });
      const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
      expect(done.overall_status).toBe('Succeeded');
      return (await env.states(id, ex.execution_id)).map((s: any) => s.name);
    };
    expect(await run('I want a refund')).toEqual(['classify', 'route', 'billing']);
    expect(await run('the app crashes')).toEqual(['classify', 'route', 'tech']);
    expect(await run('site is down!')).toEqual(['classify', 'escalate']);
  });

  it('parallel fan-out joins before the next state', async () => {
    const id = await env.createWorkflow(example('parallel-join.yaml'));
    env.llm.rule((r) => (lastUser(r) === 'List the pros' ? { text: 'cheap', delayMs: 30 } : lastUser(r) === 'List the cons' ? { text: 'slow' } : null));
    const ex = await env.execute(id, { user_input: '{"question":"buy?"}' });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    expect(done.output).toBe('Echo: Summarize. Pros: cheap Cons: slow');
    const states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => s.name).sort()).toEqual(['cons', 'pros', 'start', 'summary']);
    const summary = states.find((s: any) => s.name === 'summary');
    expect(summary.preceding_state_ids).toHaveLength(2);
  });

  it('map over a list output with bounded concurrency', async () => {
    const id = await env.createWorkflow(example('map-list.yaml'));
    env.llm.rule((r) => (sys(r).includes('planner') ? { text: '{"items":["a","b","c","d"]}' } : sys(r).includes('worker') ? { text: `done ${lastUser(r).slice(-1)}`, delayMs: 10 } : null));
    const ex = await env.execute(id, { user_input: 'go' });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    const states = await env.states(id, ex.execution_id);
    const processed = states.filter((s: any) => s.name === 'process');
    expect(processed.map((s: any) => s.iteration_number).sort()).toEqual([0, 1, 2, 3]);
    expect(processed.map((s: any) => s.task).sort()).toEqual(['Process a', 'Process b', 'Process c', 'Process d']);
    // The combiner got all results, in item order.
    expect(done.output).toBe('Echo: ["done a","done b","done c","done d"]');
  });

  it('human approval: interrupt, edit the predecessor output, resume', async () => {
    const id = await env.createWorkflow(example('human-approval.yaml'));
    env.llm.rule((r) => (sys(r).includes('writer') ? { text: 'Draft v1' } : null));
    const ex = await env.execute(id);
    const paused = await env.waitFor(id, ex.execution_id, ['Interrupted', 'Failed']);
    expect(paused.overall_status).toBe('Interrupted');
    let states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => [s.name, s.status])).toEqual([
      ['draft', 'Succeeded'],
      ['publish', 'Interrupted'],
    ]);
    const edit = await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/output`, { state_id: states[0].id, output: 'Draft v2 (edited)' });
    expect(edit.status).toBe(200);
    expect(edit.body).toEqual({ message: 'Workflow execution output has been edited successfully' });
    const resumed = await env.api('PUT', `/v1/workflows/${id}/executions/${ex.execution_id}/resume`);
    expect(resumed.body).toEqual({ message: 'Workflow execution has been resumed' });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.output).toBe('Echo: Publish: Draft v2 (edited)');
    states = await env.states(id, ex.execution_id);
    expect(states.map((s: any) => [s.name, s.status])).toEqual([
      ['draft', 'Succeeded'],
      ['publish', 'Succeeded'],
    ]);
    const out = await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}/states/${states[0].id}/output`);
    expect(out.body).toEqual({ output: 'Draft v2 (edited)' });
  });
});
