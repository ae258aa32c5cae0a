/**
 * A2A: the agent card and the JSON-RPC endpoint of an assistant, driven by the protocol's own JS
 * client (@a2a-js/sdk, v1.0) with a CodeMie token, raw v0.3 `message/send`, and the reference's
 * draft `tasks/send` / `tasks/get`; tasks persist in the database and belong to their caller.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, TaskState, type Message, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const carol = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['other'] });

const authedFetch =
  (headers: Record<string, string>): typeof fetch =>
  (input, init) =>
    fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), ...headers } });

const message = (text: string, extra: Partial<Message> = {}): Message => ({
  messageId: randomUUID(),
  contextId: '',
  taskId: '',
  role: Role.ROLE_USER,
  parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
  ...extra,
});

const artifactText = (t: Task) => t.artifacts.flatMap((a) => a.parts).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');

describe.each(DB_KINDS)('A2A (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  let id: string;
  let privateId: string;
  const tmp = tempDir('codemie-a2a-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    p = await startTestPlatform({ db, testAuth: true, listen: true, env: { ...writeTestModelsFile(llm, tmp.dir).env, A2A_PROVIDER_ORGANIZATION: 'Acme' } });
    const mk = async (body: Record<string, unknown>) => {
      const r = await fetch(`${p.url}/v1/assistants`, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: JSON.stringify({ llm_model_type: 'test-model', ...body }) });
      return ((await r.json()) as { assistantId: string }).assistantId;
    };
    id = await mk({ name: 'A2A helper', description: 'Answers over A2A', system_prompt: 'Be brief.', shared: true });
    privateId = await mk({ name: 'Private', description: 'p', system_prompt: 's', shared: false, toolkits: [{ toolkit: 'git', label: 'Git', tools: [{ name: 'list_branches_in_repo', label: 'List branches' }] }] });
  });
  afterAll(async () => {
    await p.stop();
    await llm.close();
    tmp.cleanup();
  });

  const rpc = (assistantId: string, body: unknown, headers = alice) =>
    fetch(`${p.url}/v1/a2a/assistants/${assistantId}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('agent card: reference fields, v1.0 interfaces, skills from toolkits; auth rules; 404 text', async () => {
    const res = await fetch(`${p.url}/v1/a2a/assistants/${id}/.well-known/agent.json`, { headers: bob });
    expect(res.status).toBe(200);
    const card = (await res.json()) as Record<string, any>;
    expect(card).toMatchObject({
      name: 'A2A helper',
      description: 'Answers over A2A',
      url: `${p.url}/v1/a2a/assistants/${id}`,
      version: '1.0.0',
      provider: { organization: 'Acme', url: '' },
      capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: true },
      authentication: { schemes: ['Bearer'], credentials: null },
      defaultInputModes: ['text'],
      defaultOutputModes: ['text'],
      skills: [{ id: 'conversation', name: 'Conversation', description: 'General conversation ability', tags: null, examples: null, inputModes: ['text'], outputModes: ['text'] }],
    });
    expect(card.supportedInterfaces).toEqual([
      expect.objectContaining({ url: `${p.url}/v1/a2a/assistants/${id}`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }),
      expect.objectContaining({ protocolVersion: '0.3' }),
    ]);
    const viaPrefix = (await (await fetch(`${p.url}/code-assistant-api/v1/a2a/assistants/${id}/.well-known/agent-card.json`, { headers: bob })).json()) as Record<string, any>;
    expect(viaPrefix.url).toBe(`${p.url}/code-assistant-api/v1/a2a/assistants/${id}`);
    const tooled = (await (await fetch(`${p.url}/v1/a2a/assistants/${privateId}/.well-known/agent.json`, { headers: alice })).json()) as Record<string, any>;
    expect(tooled.skills).toEqual([{ id: 'list_branches_in_repo', name: 'List branches', description: '', tags: ['list', 'branches', 'in', 'repo', 'git'], examples: null, inputModes: ['text'], outputModes: ['text'] }]);
    expect((await fetch(`${p.url}/v1/a2a/assistants/${privateId}/.well-known/agent.json`, { headers: bob })).status).toBe(403);
    expect((await fetch(`${p.url}/v1/a2a/assistants/${id}/.well-known/agent.json`)).status).toBe(401); // not published: a token is needed
    const missing = await fetch(`${p.url}/v1/a2a/assistants/nope/.well-known/agent.json`, { headers: bob });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error).toEqual({ message: "Assistant with id nope wasn't found", details: null, help: null });
  });

  it('the A2A SDK client gets an answer (SendMessage), then the task (GetTask); another user cannot see it', async () => {
    const factory = (headers: Record<string, string>) =>
      new ClientFactory(
        ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
          transports: [new JsonRpcTransportFactory({ fetchImpl: authedFetch(headers) })],
          cardResolver: new DefaultAgentCardResolver({ fetchImpl: authedFetch(headers) }),
        }),
      );
    const client = await factory(bob).createFromUrl(`${p.url}/v1/a2a/assistants/${id}/`);
    const result = await client.sendMessage({ tenant: '', message: message('hello over a2a'), configuration: undefined, metadata: undefined });
    const task = result as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(artifactText(task)).toBe('Echo: hello over a2a');
    const got = await client.getTask({ tenant: '', id: task.id, historyLength: 10 });
    expect(got.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(artifactText(got)).toBe('Echo: hello over a2a');
    // A follow-up in the same context (a completed task cannot be continued) carries the history.
    const again = (await client.sendMessage({ tenant: '', message: message('and again', { contextId: task.contextId }), configuration: undefined, metadata: undefined })) as Task;
    expect(again.id).not.toBe(task.id);
    expect(again.contextId).toBe(task.contextId);
    const followUp = llm.chatRequests().at(-1)!;
    expect(followUp.messages.filter((m) => m.role !== 'system').map((m) => m.content)).toEqual(['hello over a2a', 'Echo: hello over a2a', 'and again']);
    const stranger = await (await factory(testAuthHeaders({ id: 'dave', username: 'dave', projects: ['demo'] })).createFromUrl(`${p.url}/v1/a2a/assistants/${id}/`));
    await expect(stranger.getTask({ tenant: '', id: task.id, historyLength: 0 })).rejects.toThrow();
  });

  it('v0.3 message/send and the reference draft tasks/send, tasks/get; errors', async () => {
    const v03 = (await (
      await rpc(id, { jsonrpc: '2.0', id: 'r0', method: 'message/send', params: { message: { kind: 'message', messageId: randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'old client' }] } } }, bob)
    ).json()) as Record<string, any>;
    expect(v03.result.status.state).toBe('completed');
    expect(v03.result.artifacts[0].parts[0]).toMatchObject({ kind: 'text', text: 'Echo: old client' });

    const send = await rpc(id, { jsonrpc: '2.0', id: 'r1', method: 'tasks/send', params: { id: 't-draft-1', message: { role: 'user', parts: [{ type: 'text', text: 'hi' }] } } }, bob);
    expect(send.status).toBe(200);
    const sent = (await send.json()) as Record<string, any>;
    expect(sent).toMatchObject({ jsonrpc: '2.0', id: 'r1', result: { id: 't-draft-1', status: { state: 'completed' }, artifacts: [{ parts: [{ type: 'text', text: 'Echo: hi' }], index: 0 }], history: [] } });
    const got = (await (await rpc(id, { jsonrpc: '2.0', id: 'r2', method: 'tasks/get', params: { id: 't-draft-1', historyLength: 2 } }, bob)).json()) as Record<string, any>;
    expect(got.result.history.map((m: any) => [m.role, m.parts[0].text])).toEqual([
      ['user', 'hi'],
      ['agent', 'Echo: hi'],
    ]);
    const nf = (await (await rpc(id, { jsonrpc: '2.0', id: 'r3', method: 'tasks/get', params: { id: 'nope' } }, bob)).json()) as Record<string, any>;
    expect(nf.error.code).toBe(-32001);
    const modes = (await (await rpc(id, { jsonrpc: '2.0', id: 'r4', method: 'tasks/send', params: { id: 't2', acceptedOutputModes: ['image/png'], message: { role: 'user', parts: [{ type: 'text', text: 'x' }] } } }, bob)).json()) as Record<string, any>;
    expect(modes.error).toEqual({ code: -32005, message: 'Incompatible content types' });
    expect(((await (await rpc(id, { jsonrpc: '2.0', id: 'r5', method: 'tasks/sendSubscribe', params: {} }, bob)).json()) as any).error.code).toBe(-32004);
    expect(((await (await rpc(id, { jsonrpc: '2.0', id: 'r6', method: 'no/such', params: {} }, bob)).json()) as any).error.code).toBe(-32601);
    const denied = await rpc(privateId, { jsonrpc: '2.0', id: 'r7', method: 'tasks/send', params: {} }, carol);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as any).error).toEqual({
      message: 'Access Denied',
      details: "You don't have permission to access this assistant.",
      help: 'Please ensure you have the correct permissions to use this assistant.',
    });
    expect((await rpc('nope', { jsonrpc: '2.0', id: 'r8', method: 'tasks/send', params: {} })).status).toBe(404);
    expect((await fetch(`${p.url}/v1/a2a/assistants/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
  });
});
