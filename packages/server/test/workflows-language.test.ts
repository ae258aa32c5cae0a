/**
 * The YAML language features of the reference docs' configuration pages, through our own
 * examples under examples/workflows/: the transform node and switch routing, context management
 * between states, retries, fenced output_schema, iteration chains with a collected result.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from './helpers.js';
import type { RecordedRequest } from './llm-server.js';
import { startWorkflowEnv, type WorkflowEnv } from './workflows-harness.js';

const example = (name: string) => readFileSync(path.join(__dirname, '../../../examples/workflows', name), 'utf8');
const sys = (r: RecordedRequest) => String(r.messages.find((m) => m.role === 'system')?.content ?? '');
const lastUser = (r: RecordedRequest) => String([...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '');

const event = (labels: string[], number = 7) => JSON.stringify({ number, pull_request: { labels: labels.map((name) => ({ name })), user: { login: 'kim' } } });

describe.each(DB_KINDS)('workflow language (%s)', (db) => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv({ db });
  });
  afterAll(() => env?.close());
  beforeEach(() => env.llm.reset());

  it('transform node: mappings without an LLM call, then switch routing on its fields', async () => {
    const id = await env.createWorkflow(example('transform-webhook-router.yaml'));
    const run = async (input: string) => {
      const ex = await env.execute(id, { user_input: input });
      const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
      return { done, states: await env.states(id, ex.execution_id) };
    };
    const urgent = await run(event(['urgent', 'release-2']));
    expect(urgent.done.overall_status).toBe('Succeeded');
    expect(urgent.states.map((s: { name: string }) => s.name)).toEqual(['read', 'page_on_call']);
    const mapped = JSON.parse(
      urgent.states[0].thoughts.length
        ? (await env.api('GET', `/v1/workflows/${id}/executions/${urgent.done.execution_id}/states/${urgent.states[0].id}/output`)).body.output
        : '{}',
    );
    expect(mapped).toEqual({
      label_names: ['urgent', 'release-2'],
      release_labels: ['release-2'],
      is_urgent: true,
      pr_number: 7,
      author: 'kim',
      weight: 25,
      source: 'webhook',
      summary: 'PR #7 by kim: urgent, release-2',
    });
    // only the notifier called the model, with the rendered summary
    const calls = env.llm.chatRequests();
    expect(calls).toHaveLength(1);
    expect(lastUser(calls[0])).toBe('Urgent: PR #7 by kim: urgent, release-2 (weight 25)');

    expect((await run(event(['release-3']))).states.map((s: { name: string }) => s.name)).toEqual(['read', 'announce_release']);
    const none = await run(event([]));
    expect(none.states.map((s: { name: string }) => s.name)).toEqual(['read', 'ignore']);
    expect(none.done.output).toBe('{"message":"nothing to do"}');
    // no pr number: the output_schema refuses, on_error: fail fails the state with the reason
    const bad = await run(JSON.stringify({ pull_request: { labels: [] } }));
    expect(bad.done.overall_status).toBe('Failed');
    expect(bad.states[0].error).toContain("Transformation failed: output does not match output_schema: field 'pr_number' should be integer");
  });

  it('transform node configs are validated at save (mapping type, expressions, filters)', async () => {
    const yaml = example('transform-webhook-router.yaml');
    const r1 = await env.api('POST', '/v1/workflows', { name: 'x', project: 'demo', yaml_config: yaml.replace('type: script', 'type: python') });
    expect(r1.status).toBe(400);
    expect(r1.body.error.details).toContain("Custom node 'read_event': config.mappings.5.type");
    const r2 = await env.api('POST', '/v1/workflows', { name: 'x', project: 'demo', yaml_config: yaml.replace("| join(', ')", '| shout') });
    expect(r2.body.error.details).toContain("unknown template filter 'shout'");
    const r3 = await env.api('POST', '/v1/workflows', {
      name: 'x',
      project: 'demo',
      yaml_config: yaml.replace('custom_node_id: transform_node\n    name: Read', 'custom_node_id: bedrock_flow_node\n    name: Read'),
    });
    expect(r3.body.error.details).toContain("is of kind 'bedrock_flow_node', which this platform does not run (supported: transform_node)");
  });

  it('context management: output_key, reset keys, store_in_context false, keep_current, clear_prior_messages; retries', async () => {
    const id = await env.createWorkflow(example('context-management.yaml'));
    env.llm.rule((r) => (lastUser(r).startsWith('Extract') ? { text: '{"topic": "tea", "scratch": "tmp"}' } : null));
    // the draft fails once (a 500), the state's retry_policy runs it again
    let failed = false;
    env.llm.rule((r) => {
      if (!lastUser(r).startsWith('Draft') || failed) return null;
      failed = true;
      return { status: 500 };
    });
    const ex = await env.execute(id, { user_input: 'tell me about tea' });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    const states = await env.states(id, ex.execution_id);
    expect(states.map((s: { name: string }) => s.name)).toEqual(['extract', 'draft', 'private_note', 'final']);
    const ctx = async (stateName: string) =>
      (
        await env.api(
          'GET',
          `/v1/workflows/${id}/executions/${ex.execution_id}/transitions/to/${states.find((s: { name: string }) => s.name === stateName).id}`,
        )
      ).body.workflow_context.context_store;
    expect(await ctx('draft')).toMatchObject({ topic: 'tea', scratch: 'tmp' });
    const atNote = await ctx('private_note');
    expect(atNote).not.toHaveProperty('scratch');
    expect(atNote.draft).toBe('Echo: Draft an answer about tea');
    const atFinal = await ctx('final');
    expect(atFinal).not.toHaveProperty('private_note');
    const reqs = env.llm.chatRequests();
    expect(reqs.filter((r) => lastUser(r).startsWith('Draft'))).toHaveLength(2);
    // the private note is kept out of the LLM history of the next state
    const final = reqs.find((r) => lastUser(r).startsWith('Polish'))!;
    expect(JSON.stringify(final.messages)).not.toContain('Note for yourself');
    expect(lastUser(final)).toBe('Polish this draft: Echo: Draft an answer about tea');
  });

  it('iteration chain over a structured list, collected with append_to_context', async () => {
    const id = await env.createWorkflow(example('iterate-and-collect.yaml'));
    env.llm.rule((r) => (sys(r).includes('split work') ? { text: '{"tasks": [{"name": "t1"}, {"name": "t2"}], "project": "P"}' } : null));
    const ex = await env.execute(id, { user_input: 'ship it' });
    const done = await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed']);
    expect(done.overall_status).toBe('Succeeded');
    const states = await env.states(id, ex.execution_id);
    const names = states.map((s: { name: string }) => s.name);
    expect(names.filter((n: string) => n === 'do')).toHaveLength(2);
    expect(names.filter((n: string) => n === 'check')).toHaveLength(2);
    expect(names.at(-1)).toBe('report');
    const dos = env.llm.chatRequests().filter((r) => lastUser(r).startsWith('Do '));
    // each item is the task input of its branch (appended to the task, as the reference)
    expect(dos.map((r) => lastUser(r)).sort()).toEqual(['Do t1 for P\n\n{"name":"t1"}', 'Do t2 for P\n\n{"name":"t2"}']);
    const report = env.llm.chatRequests().find((r) => lastUser(r).startsWith('Report on'))!;
    expect(lastUser(report)).toContain('Echo: Check t1');
    expect(lastUser(report)).toContain('Echo: Check t2');
  });
});
