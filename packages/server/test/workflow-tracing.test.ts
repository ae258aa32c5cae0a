/**
 * The guide's workflow execution with tags, traced to a local Langfuse receiver: one trace with
 * exactly the request's tags, session = the execution id (or the given session_id), the user,
 * workflow metadata, a span per state with the LLM generation nested; no header values exported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from './helpers.js';
import { authHeaders, createUser, passwordToken } from './identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';
import { startLangfuseReceiver, langfuseEnv, type LangfuseReceiver } from './langfuse-receiver.js';

let llm: TestLlmServer;
let rx: LangfuseReceiver;
let p: TestPlatform;
let h: Record<string, string>;
let workflowId: string;
const tmp = tempDir();

const YAML = `assistants:
  - id: checker
    model: test-model
    system_prompt: You check deployments.
states:
  - id: check
    assistant_id: checker
    task: "Check: {{user_input}}"
    next:
      state_id: summarize
  - id: summarize
    assistant_id: checker
    task: Summarize the check.
    next:
      state_id: end
`;

beforeAll(async () => {
  llm = await startTestLlmServer();
  rx = await startLangfuseReceiver();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  p = await startTestPlatform({ env: { ...env, ...langfuseEnv(rx) }, listen: true });
  const user = await createUser(p, { username: 'wendy', projects: ['demo'] });
  void user;
  h = authHeaders(await passwordToken(p, 'wendy'));
  const res = await p.app.inject({
    method: 'POST',
    url: '/v1/workflows',
    headers: h,
    payload: { name: 'Deployment check', description: 'd', project: 'demo', yaml_config: YAML },
  });
  expect(res.statusCode).toBe(200);
  workflowId = res.json().data.id;
});
afterAll(async () => {
  await p.stop();
  await llm.close();
  await rx.close();
  tmp.cleanup();
});

async function runToEnd(payload: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await p.app.inject({ method: 'POST', url: `/code-assistant-api/v1/workflows/${workflowId}/executions`, headers: { ...h, ...headers }, payload });
  expect(res.statusCode).toBe(200);
  const id = res.json().execution_id as string;
  for (let i = 0; i < 200; i++) {
    const e = (await p.app.inject({ method: 'GET', url: `/v1/workflows/${workflowId}/executions/${id}`, headers: h })).json();
    if (e.overall_status !== 'In Progress') {
      expect(e.overall_status).toBe('Succeeded');
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await p.infra.tracer.flush();
  return id;
}

describe('workflow traces (guide example with tags)', () => {
  it('one trace per execution: exact tags, session = execution id, user, metadata, span per state with a nested generation', async () => {
    const id = await runToEnd({ user_input: 'Run deployment check', tags: ['experiment', 'customer_X'] }, { 'x-tenant-id': 'tenant-secret-value' });
    const roots = rx.spans.filter((s) => !s.parentSpanId && s.attributes['langfuse.trace.metadata.execution_id'] === id);
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.attributes).toMatchObject({
      'langfuse.trace.name': 'Deployment check',
      'session.id': id,
      'langfuse.trace.tags': ['experiment', 'customer_X'],
      'langfuse.trace.metadata.workflow_id': workflowId,
      'langfuse.trace.metadata.workflow_name': 'Deployment check',
    });
    expect(root.attributes['user.id']).toBeTruthy();
    const inTrace = rx.spans.filter((s) => s.traceId === root.traceId);
    const states = inTrace.filter((s) => s.parentSpanId === root.spanId);
    expect(states.length).toBeGreaterThanOrEqual(2);
    const gens = inTrace.filter((s) => s.attributes['langfuse.observation.type'] === 'generation');
    expect(gens.length).toBe(2);
    for (const g of gens) expect(states.map((s) => s.spanId)).toContain(g.parentSpanId);
    expect(rx.rawBodies.join('\n')).not.toContain('tenant-secret-value');
  });

  it('an explicit session_id is used as the trace session', async () => {
    const id = await runToEnd({ user_input: 'again', session_id: 'my-session-42' });
    const root = rx.spans.find((s) => !s.parentSpanId && s.attributes['langfuse.trace.metadata.execution_id'] === id)!;
    expect(root.attributes['session.id']).toBe('my-session-42');
    expect(root.attributes['langfuse.trace.tags']).toBeUndefined();
  });
});
