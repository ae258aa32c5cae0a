import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CodeMieClient, CodeMieTimeoutError, NotFoundError } from './index.js';
import { REALM, send, startFake, type FakePlatform, type Recorded } from './test-support/fake-server.js';

let fake: FakePlatform;
let client: CodeMieClient;

beforeEach(async () => {
  fake = await startFake();
  client = new CodeMieClient({
    codemie_api_domain: fake.apiDomain,
    auth_server_url: fake.authUrl,
    auth_realm_name: REALM,
    username: 'alice',
    password: 'secret',
  });
  fake.route('POST', '/v1/workflows/:id/executions', (req, res) =>
    send(res, 200, { id: 'row-1', execution_id: 'exec-1', workflow_id: req.path.split('/')[4], overall_status: 'In Progress' }),
  );
});

afterEach(async () => {
  await fake.stop();
});

function lastPost(): Recorded {
  return fake.apiRequests().filter((r) => r.method === 'POST').at(-1)!;
}

describe('workflows.run (positional, as in the guide)', () => {
  it('runs the guide example verbatim: undefined placeholders are left out, tags is the 7th argument', async () => {
    const result = await client.workflows.run(
      '<workflow-id>',
      'Run deployment check', // userInput
      undefined, // fileName
      undefined, // sessionId
      undefined, // propagateHeaders
      undefined, // headers
      ['experiment', 'customer_X'], // tags
    );
    expect(result.execution_id).toBe('exec-1');
    expect(result.overall_status).toBe('In Progress');
    const req = lastPost();
    expect(req.path).toBe('/code-assistant-api/v1/workflows/%3Cworkflow-id%3E/executions');
    expect(req.body).toEqual({ user_input: 'Run deployment check', tags: ['experiment', 'customer_X'] });
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('sends every argument: body fields in snake_case and headers as HTTP headers', async () => {
    await client.workflows.run(
      'wf-1',
      'Run deployment check',
      'report.csv',
      'session-42',
      true,
      { 'X-Tenant-ID': 'acme-corp', 'X-Correlation-ID': 'trace-123' },
      ['prod'],
    );
    const req = lastPost();
    expect(req.path).toBe('/code-assistant-api/v1/workflows/wf-1/executions');
    expect(req.body).toEqual({
      user_input: 'Run deployment check',
      file_name: 'report.csv',
      session_id: 'session-42',
      propagate_headers: true,
      tags: ['prod'],
    });
    expect(req.headers['x-tenant-id']).toBe('acme-corp');
    expect(req.headers['x-correlation-id']).toBe('trace-123');
    expect(req.headers.authorization).toBe('Bearer tok-1');
  });

  it('sends an empty body when only the workflow id is given, and false is kept', async () => {
    await client.workflows.run('wf-1');
    expect(lastPost().body).toEqual({});
    await client.workflows.run('wf-1', undefined, undefined, undefined, false);
    expect(lastPost().body).toEqual({ propagate_headers: false });
  });

  it('works through workflows.executions(id).create with the Python argument order', async () => {
    await client.workflows.executions('wf-2').create('hi', undefined, 'conv-1', undefined, true, { 'X-A': '1' }, ['t']);
    const req = lastPost();
    expect(req.path).toBe('/code-assistant-api/v1/workflows/wf-2/executions');
    expect(req.body).toEqual({ user_input: 'hi', conversation_id: 'conv-1', propagate_headers: true, tags: ['t'] });
    expect(req.headers['x-a']).toBe('1');
  });
});

describe('workflow CRUD', () => {
  it('uses the reference paths and bodies', async () => {
    fake.json('GET', '/v1/workflows', { data: [{ id: 'w1', name: 'one' }], pagination: { page: 0, per_page: 5, total: 1, pages: 1 } });
    fake.json('GET', '/v1/workflows/id/:id', { id: 'w1', name: 'one', yaml_config: 'states: []' });
    fake.route('POST', '/v1/workflows', (req, res) => send(res, 200, { message: 'Workflow created successfully', data: { id: 'w2', ...(req.body as object) } }));
    fake.route('PUT', '/v1/workflows/:id', (req, res) => send(res, 200, { message: 'Workflow updated successfully', data: req.body }));
    fake.json('DELETE', '/v1/workflows/:id', { message: 'Specified workflow removed' });

    const list = await client.workflows.list({ page: 0, per_page: 5, search: 'one', projects: ['demo'] });
    expect(list).toEqual([{ id: 'w1', name: 'one' }]);
    const lq = fake.last().query;
    expect(lq.get('page')).toBe('0');
    expect(lq.get('per_page')).toBe('5');
    expect(JSON.parse(lq.get('filters')!)).toEqual({ search: 'one', project: ['demo'] });

    const page = await client.workflows.listPaginated();
    expect(page.pagination.total).toBe(1);
    expect(fake.last().query.toString()).toBe('');

    expect((await client.workflows.get('w1')).yaml_config).toBe('states: []');
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/id/w1');

    const created = await client.workflows.create({ name: 'two', description: 'd', project: 'demo', yaml_config: 'states: []', mode: 'Sequential', shared: true });
    expect(created.message).toBe('Workflow created successfully');
    expect(created.data?.id).toBe('w2');
    expect(fake.last().body).toEqual({ name: 'two', description: 'd', project: 'demo', yaml_config: 'states: []', mode: 'Sequential', shared: true });

    await client.workflows.update('w2', { name: 'renamed', description: undefined });
    expect(fake.last().method).toBe('PUT');
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/w2');
    expect(fake.last().body).toEqual({ name: 'renamed' });

    expect(await client.workflows.delete('w2')).toEqual({ message: 'Specified workflow removed' });
    expect(fake.last().method).toBe('DELETE');
  });

  it('throws NotFoundError for an unknown workflow', async () => {
    fake.json('GET', '/v1/workflows/id/:id', { error: { message: 'Workflow not found', details: 'The Workflow with ID [nope] could not be found in the system.', help: 'Please ensure the specified ID is correct' } }, 404);
    const err = await client.workflows.get('nope').catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.status).toBe(404);
    expect(err.message).toBe('Workflow not found');
    expect(err.details).toBe('The Workflow with ID [nope] could not be found in the system.');
  });
});

describe('executions', () => {
  beforeEach(() => {
    const base = '/v1/workflows/:wf/executions';
    fake.json('GET', base, { data: [{ execution_id: 'exec-1', overall_status: 'Succeeded' }], pagination: { page: 0, per_page: 10, total: 1, pages: 1 } });
    fake.json('GET', `${base}/:id`, { execution_id: 'exec-1', workflow_id: 'wf', overall_status: 'Interrupted' });
    fake.json('GET', `${base}/:id/states`, { data: [{ id: 'st-1', name: 'first', status: 'Succeeded' }], pagination: { page: 0, per_page: 10, total: 1, pages: 1 } });
    fake.json('GET', `${base}/:id/states/:sid/output`, { output: 'state output' });
    fake.json('PUT', `${base}/:id/abort`, { message: 'Workflow execution has been aborted' });
    fake.json('PUT', `${base}/:id/resume`, { message: 'Workflow execution has been resumed' });
    fake.json('DELETE', `${base}/:id`, { message: 'Execution removed' });
    fake.json('DELETE', base, { message: 'Execution history cleared' });
    fake.json('POST', `${base}/:id/thoughts`, [{ id: 'th-1', author_name: 'a' }]);
  });

  it('list, get, states, stateOutput, abort, resume, delete hit the reference routes', async () => {
    const ex = client.executions;
    expect(await ex.list('wf', { page: 1, per_page: 3 })).toEqual([{ execution_id: 'exec-1', overall_status: 'Succeeded' }]);
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/wf/executions');
    expect(fake.last().query.toString()).toBe('page=1&per_page=3');

    expect((await ex.get('wf', 'exec-1')).overall_status).toBe('Interrupted');
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/wf/executions/exec-1');

    expect(await ex.states('wf', 'exec-1')).toEqual([{ id: 'st-1', name: 'first', status: 'Succeeded' }]);
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/wf/executions/exec-1/states');

    expect(await ex.stateOutput('wf', 'exec-1', 'st-1')).toEqual({ output: 'state output' });
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/wf/executions/exec-1/states/st-1/output');

    expect(await ex.thoughts('wf', 'exec-1', ['p1'])).toEqual([{ id: 'th-1', author_name: 'a' }]);
    expect(fake.last().body).toEqual(['p1']);

    expect((await ex.abort('wf', 'exec-1')).message).toBe('Workflow execution has been aborted');
    expect(fake.last().method).toBe('PUT');
    expect(fake.last().path).toBe('/code-assistant-api/v1/workflows/wf/executions/exec-1/abort');

    expect((await ex.delete('wf', 'exec-1')).message).toBe('Execution removed');
    expect(fake.last().method).toBe('DELETE');
    expect((await ex.deleteAll('wf')).message).toBe('Execution history cleared');
  });

  it('resume sends user_input in the body, propagate_headers in the query and headers as headers', async () => {
    const wfEx = client.workflows.executions('wf');
    await wfEx.resume('exec-1', { userInput: 'approved', propagateHeaders: true, headers: { 'X-Tenant-ID': 't1' } });
    let req = fake.last();
    expect(req.method).toBe('PUT');
    expect(req.path).toBe('/code-assistant-api/v1/workflows/wf/executions/exec-1/resume');
    expect(req.query.get('propagate_headers')).toBe('true');
    expect(req.body).toEqual({ user_input: 'approved' });
    expect(req.headers['x-tenant-id']).toBe('t1');

    await wfEx.resume('exec-1');
    req = fake.last();
    expect(req.query.toString()).toBe('');
    expect(req.body).toEqual({});

    await wfEx.resume('exec-1', false, { 'X-B': '2' }); // Python-style positional form
    req = fake.last();
    expect(req.query.get('propagate_headers')).toBe('false');
    expect(req.headers['x-b']).toBe('2');
  });

  it('the per-workflow service mirrors the top-level one', async () => {
    const wfEx = client.workflows.executions('wf');
    expect(wfEx.workflowId).toBe('wf');
    expect(await wfEx.list()).toHaveLength(1);
    expect((await wfEx.get('exec-1')).execution_id).toBe('exec-1');
    expect(await wfEx.states('exec-1')).toHaveLength(1);
    expect((await wfEx.stateOutput('exec-1', 'st-1')).output).toBe('state output');
    expect((await wfEx.abort('exec-1')).message).toMatch(/aborted/);
    expect((await wfEx.delete('exec-1')).message).toBe('Execution removed');
  });
});

describe('waitForCompletion', () => {
  it('polls until the execution leaves "In Progress" and resolves to the final record', async () => {
    const statuses = ['In Progress', 'In Progress', 'Succeeded'];
    let polls = 0;
    fake.route('GET', '/v1/workflows/:wf/executions/:id', (_req, res) =>
      send(res, 200, { execution_id: 'exec-1', workflow_id: 'wf', overall_status: statuses[Math.min(polls++, 2)], output: polls >= 3 ? 'done' : null }),
    );
    const run = await client.workflows.run('wf', 'go');
    const final = await client.executions.waitForCompletion('wf', run.execution_id, { intervalMs: 20, timeoutMs: 5000 });
    expect(final.overall_status).toBe('Succeeded');
    expect(final.output).toBe('done');
    expect(polls).toBe(3);
  });

  it('stops on Failed too, and on a custom set of statuses', async () => {
    fake.json('GET', '/v1/workflows/:wf/executions/:id', { execution_id: 'e', workflow_id: 'wf', overall_status: 'Failed', output: 'boom' });
    expect((await client.executions.waitForCompletion('wf', 'e', { intervalMs: 10 })).output).toBe('boom');
    fake.json('GET', '/v1/workflows/:wf/executions/:id', { execution_id: 'e', workflow_id: 'wf', overall_status: 'Interrupted' });
    expect((await client.workflows.executions('wf').waitForCompletion('e', { intervalMs: 10 })).overall_status).toBe('Interrupted');
  });

  it('rejects with CodeMieTimeoutError carrying the last record when the time is up', async () => {
    let polls = 0;
    fake.route('GET', '/v1/workflows/:wf/executions/:id', (_req, res) => {
      polls++;
      send(res, 200, { execution_id: 'e', workflow_id: 'wf', overall_status: 'In Progress' });
    });
    // a never-finishing execution: without the timeout this would poll forever (and the test time out)
    const err = await client.executions.waitForCompletion('wf', 'e', { timeoutMs: 150, intervalMs: 30 }).catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieTimeoutError);
    expect(err.message).toMatch(/still "In Progress" after 150 ms/);
    expect(err.last.overall_status).toBe('In Progress');
    expect(polls).toBeGreaterThanOrEqual(3);
  });

  it('passes API errors through (e.g. the execution was deleted)', async () => {
    fake.json('GET', '/v1/workflows/:wf/executions/:id', { error: { message: 'Execution not found', details: null, help: null } }, 404);
    await expect(client.executions.waitForCompletion('wf', 'gone', { intervalMs: 10 })).rejects.toBeInstanceOf(NotFoundError);
  });
});
