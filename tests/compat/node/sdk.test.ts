/**
 * Node SDK compatibility: `codemie-sdk` (packages/sdk, built) drives the BUILT server process the way
 * the integration guide's examples do: Keycloak-style login against the embedded IdP (through a host
 * name, as a remote deployment would be reached), assistants, conversations, tasks, LLM models and
 * workflows, including `workflows.run` with `undefined` placeholders and tags, and an assistant call
 * with `propagate_headers` and custom X-* headers, and files (upload, download, `file_names`). Answers come from the test LLM server
 * (`Echo: <last user message>`, or the JSON after `JSON:`).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeMieApiError, CodeMieClient } from 'codemie-sdk';
import { COMPAT, keycloakHost, startCompatStack, type CompatStack } from '../support/stack.js';

let stack: CompatStack;
let apiUrl: string;
let client: CodeMieClient;

const WORKFLOW_YAML = `
assistants:
  - id: checker
    system_prompt: "You check deployments."
states:
  - id: check
    assistant_id: checker
    task: "Check the deployment"
    next:
      state_id: end
`;

beforeAll(async () => {
  const host = await keycloakHost();
  stack = await startCompatStack({ host: host.bind });
  apiUrl = `http://${host.name}:${new URL(stack.server.url).port}`;
  client = new CodeMieClient({
    codemie_api_domain: apiUrl,
    auth_server_url: `${apiUrl}/auth`,
    auth_realm_name: COMPAT.realm,
    username: COMPAT.username,
    password: COMPAT.password,
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const uid = () => randomUUID().slice(0, 8);

async function newAssistant(extra: Record<string, unknown> = {}): Promise<string> {
  const created = await client.assistants.create({
    name: `node-compat-${uid()}`,
    description: 'Node SDK compatibility',
    system_prompt: 'You are a helpful assistant.',
    project: COMPAT.project,
    llm_model_type: COMPAT.model,
    ...extra,
  });
  expect(created.message).toBeTruthy();
  expect(created.assistantId).toBeTruthy();
  return created.assistantId!;
}

describe('auth', () => {
  it('password grant against the embedded /auth/realms endpoint', async () => {
    const token = await client.getToken();
    const claims = JSON.parse(Buffer.from(token!.split('.')[1], 'base64url').toString());
    expect(claims.iss).toBe(`${apiUrl}/auth/realms/${COMPAT.realm}`);
    expect(claims.preferred_username).toBe(COMPAT.username);
    const me = await client.users.aboutMe();
    expect(me).toMatchObject({ username: COMPAT.username, email: COMPAT.email });
    expect(me.applications).toEqual([COMPAT.project]);
  });

  it('client_credentials grant (service account of a confidential client)', async () => {
    const service = new CodeMieClient({
      codemie_api_domain: apiUrl,
      auth_server_url: `${apiUrl}/auth`,
      auth_realm_name: COMPAT.realm,
      auth_client_id: COMPAT.clientId,
      auth_client_secret: stack.clientSecret,
    });
    const me = await service.users.aboutMe();
    expect(me.username).toBe(`service-account-${COMPAT.clientId}`);
    expect((await service.llms.list()).map((m) => m.base_name)).toContain(COMPAT.model);
  });

  it('a wrong password is a 401 error', async () => {
    const bad = new CodeMieClient({
      codemie_api_domain: apiUrl,
      auth_server_url: `${apiUrl}/auth`,
      auth_realm_name: COMPAT.realm,
      username: COMPAT.username,
      password: 'not-the-password',
    });
    const err = await bad.llms.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CodeMieApiError);
    expect((err as CodeMieApiError).status).toBe(401);
  });
});

describe('llm models', () => {
  it('lists the configured models', async () => {
    const models = await client.llms.list();
    const m = models.find((x) => x.base_name === COMPAT.model);
    expect(m).toMatchObject({ base_name: COMPAT.model, enabled: true, default: true });
  });
});

describe('assistants', () => {
  it('create, get, list, update, get by slug, delete', async () => {
    const slug = `node-slug-${uid()}`;
    const id = await newAssistant({ slug, conversation_starters: ['Hello'] });
    const a = await client.assistants.get(id);
    expect(a).toMatchObject({ id, project: COMPAT.project, llm_model_type: COMPAT.model, slug, conversation_starters: ['Hello'] });
    expect((await client.assistants.list({ per_page: 100 })).map((x) => x.id)).toContain(id);
    expect((await client.assistants.getBySlug(slug, COMPAT.project)).id).toBe(id);
    const upd = await client.assistants.update(id, { name: a.name, description: 'changed', system_prompt: 'You are terse.', project: COMPAT.project, llm_model_type: COMPAT.model });
    expect(upd.message).toBeTruthy();
    expect(await client.assistants.get(id)).toMatchObject({ description: 'changed', system_prompt: 'You are terse.' });
    const bySlug = await client.assistants.chatBySlug(slug, { text: 'By slug', project: COMPAT.project });
    expect(bySlug.generated).toBe('Echo: By slug');
    expect((await client.assistants.delete(id)).message).toBeTruthy();
    const gone = await client.assistants.get(id).catch((e: unknown) => e);
    expect((gone as CodeMieApiError).status).toBe(404);
  });

  it('chat: non-stream, stream, output schema', async () => {
    const id = await newAssistant();
    try {
      const res = await client.assistants.chat(id, { text: 'Hello compat' });
      expect(res.generated).toBe('Echo: Hello compat');
      expect(res.success).toBe(true);

      const stream = await client.assistants.chat(id, { text: 'Stream please', stream: true });
      const chunks = await stream.toArray();
      expect(chunks.length).toBeGreaterThan(1);
      const last = chunks.at(-1)!;
      expect(last).toMatchObject({ last: true, generated: 'Echo: Stream please' });
      expect(chunks.slice(0, -1).every((c) => !c.last)).toBe(true);

      const schema = { type: 'object', properties: { status: { type: 'string' }, score: { type: 'integer' } }, required: ['status', 'score'] };
      const structured = await client.assistants.chat(id, { text: 'JSON:{"status": "green", "score": 7}', output_schema: schema });
      expect(structured.generated).toEqual({ status: 'green', score: 7 });
    } finally {
      await client.assistants.delete(id);
    }
  });

  it('chat with propagate_headers and custom X-* headers works', async () => {
    const id = await newAssistant();
    try {
      const res = await client.assistants.chat(
        id,
        { text: 'List all deployments in production environment', propagate_headers: true },
        { 'X-Tenant-ID': 'acme-corp', 'X-Correlation-ID': 'trace-123', 'X-User-Context': 'engineering-team' },
      );
      expect(res.generated).toBe('Echo: List all deployments in production environment');
      // the headers go to MCP tools only (asserted by the MCP suite), never to the LLM provider
      const sent = stack.llm.chatRequests().at(-1)!;
      expect(sent.headers['x-tenant-id']).toBeUndefined();
    } finally {
      await client.assistants.delete(id);
    }
  });
});

describe('conversations and tasks', () => {
  it('a two-turn conversation is listed, detailed and deleted', async () => {
    const id = await newAssistant();
    try {
      const conversationId = randomUUID();
      expect((await client.assistants.chat(id, { text: 'First turn', conversation_id: conversationId })).generated).toBe('Echo: First turn');
      expect((await client.assistants.chat(id, { text: 'Second turn', conversation_id: conversationId })).generated).toBe('Echo: Second turn');
      const listed = await client.conversations.list();
      expect(listed.find((c) => c.id === conversationId)).toMatchObject({ initial_assistant_id: id });
      const details = await client.conversations.getConversation(conversationId);
      expect(details.history.map((h) => [h.role, h.message])).toEqual([
        ['User', 'First turn'],
        ['Assistant', 'Echo: First turn'],
        ['User', 'Second turn'],
        ['Assistant', 'Echo: Second turn'],
      ]);
      expect((await client.conversations.delete(conversationId)).message).toBeTruthy();
      expect((await client.conversations.list()).map((c) => c.id)).not.toContain(conversationId);
    } finally {
      await client.assistants.delete(id);
    }
  });

  it('a background call is polled through tasks.get until COMPLETED', async () => {
    const id = await newAssistant();
    try {
      const started = await client.assistants.chat(id, { text: 'In the background', background_task: true });
      expect(started.taskId).toBeTruthy();
      const deadline = Date.now() + 20_000;
      let task = await client.tasks.get(started.taskId!);
      while (task.status === 'STARTED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        task = await client.tasks.get(started.taskId!);
      }
      expect(task).toMatchObject({ id: started.taskId, status: 'COMPLETED', final_output: 'Echo: In the background' });
    } finally {
      await client.assistants.delete(id);
    }
  });
});

describe('workflows', () => {
  it('create, run with undefined placeholders and tags, poll, executions, states, output', async () => {
    const name = `node-wf-${uid()}`;
    const created = await client.workflows.create({ name, description: 'compat', project: COMPAT.project, yaml_config: WORKFLOW_YAML });
    expect(created.message).toBeTruthy();
    const wf = (await client.workflows.list({ per_page: 100 })).find((w) => w.name === name)!;
    expect(wf).toMatchObject({ name, project: COMPAT.project, mode: 'Sequential' });
    try {
      // the integration guide's call, verbatim
      const started = await client.workflows.run(wf.id, 'Run deployment check', undefined, undefined, undefined, undefined, ['experiment', 'customer_X']);
      expect(started).toMatchObject({ overall_status: 'In Progress', tags: ['experiment', 'customer_X'], prompt: 'Run deployment check' });
      expect(started.session_id).toBe(started.execution_id); // no session id → the execution id

      const done = await client.workflows.executions(wf.id).waitForCompletion(started.execution_id, { intervalMs: 100, timeoutMs: 20_000 });
      expect(done).toMatchObject({ overall_status: 'Succeeded', tags: ['experiment', 'customer_X'], workflow_id: wf.id });
      const stored = await client.workflows.executions(wf.id).get(started.execution_id);
      expect(stored.tags).toEqual(['experiment', 'customer_X']);
      expect((await client.workflows.executions(wf.id).list()).map((e) => e.execution_id)).toContain(started.execution_id);

      const states = await client.workflows.executions(wf.id).states(started.execution_id);
      expect(states.map((s) => [s.name, s.status])).toEqual([['check', 'Succeeded']]);
      const out = await client.workflows.executions(wf.id).stateOutput(started.execution_id, states[0].id);
      expect(out.output).toBe('Echo: Check the deployment');

      const withSession = await client.workflows.run(wf.id, 'again', undefined, 'node-session-1');
      expect(withSession.session_id).toBe('node-session-1');
      await client.workflows.executions(wf.id).waitForCompletion(withSession.execution_id, { intervalMs: 100, timeoutMs: 20_000 });
      expect((await client.workflows.executions(wf.id).delete(withSession.execution_id)).message).toBeTruthy();
    } finally {
      await client.workflows.delete(wf.id);
    }
  });
});

describe('files', () => {
  it('upload, getFile (identical bytes), file_names in a call and a background call; unknown → 400', async () => {
    const bytes = new TextEncoder().encode('MANGO-77 lives here\n');
    const { file_url } = await client.files.upload({ name: 'notes.txt', content: bytes, mimeType: 'text/plain' });
    expect(file_url).toBeTruthy();
    expect(await client.files.getFile(file_url)).toEqual(bytes);
    const bulk = await client.files.bulkUpload([{ name: 'a.md', content: '# A' }, { name: 'b.json', content: '{}' }]);
    expect(bulk.files).toHaveLength(2);
    expect(new TextDecoder().decode(await client.files.getFile(bulk.files[0].file_url))).toBe('# A');

    const id = await newAssistant();
    try {
      const res = await client.assistants.chat(id, { text: 'Read', file_names: [file_url] });
      expect(res.generated).toBe('Echo: Read\n\nAttached files:\n<file name="notes.txt">\nMANGO-77 lives here\n\n</file>');
      const started = await client.assistants.chat(id, { text: 'Later', file_names: [file_url], background_task: true });
      const deadline = Date.now() + 20_000;
      let task = await client.tasks.get(started.taskId!);
      while (task.status === 'STARTED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        task = await client.tasks.get(started.taskId!);
      }
      expect(task.status).toBe('COMPLETED');
      expect(task.final_output).toContain('MANGO-77');
      const err = (await client.assistants.chat(id, { text: 'x', file_names: ['never-uploaded.txt'] }).catch((e: unknown) => e)) as CodeMieApiError;
      expect(err.status).toBe(400);
    } finally {
      await client.assistants.delete(id);
    }
  });
});
