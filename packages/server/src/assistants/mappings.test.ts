/**
 * Per-user mappings (integration per tool, prompt-variable values and their rendering), project
 * feature mappings behind their flag, the system-prompt preview, templates and catalogs, export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const carol = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['other'] });
const lead = testAuthHeaders({ id: 'lead', username: 'lead', name: 'Lead', projects: ['demo'], adminProjects: ['demo'] });
const admin = testAuthHeaders({ id: 'root', username: 'root', roles: ['admin'], projects: [] });

describe.each(DB_KINDS)('mappings, catalogs, templates, export (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  let off: TestPlatform;
  const tmp = tempDir('codemie-assistant-mappings-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const env = writeTestModelsFile(llm, tmp.dir).env;
    p = await startTestPlatform({ db, testAuth: true, env: { ...env, CODEMIE_FEATURE_TEAMS_BOT: 'true' } });
    off = await startTestPlatform({ testAuth: true, env });
  });
  afterAll(async () => {
    await p.stop();
    await off.stop();
    await llm.close();
    tmp.cleanup();
  });

  const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown, on = p) =>
    on.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const create = async (headers: Record<string, string>, body: Record<string, unknown>, on = p) => {
    const r = await req('POST', '/v1/assistants', headers, { llm_model_type: 'test-model', shared: true, ...body }, on);
    expect(r.statusCode, r.body).toBe(200);
    return r.json().assistantId as string;
  };

  it('prompt variables: defaults, the caller\'s own values (sensitive ones sealed and masked), rendered into the system prompt', async () => {
    const id = await create(alice, {
      name: 'Templated',
      system_prompt: 'Team {{ team }}, key {{ api_key }}, user {{current_user}}, unknown {{ other }}.',
      prompt_variables: [
        { key: 'team', default_value: 'core' },
        { key: 'api_key', default_value: 'default-key', is_sensitive: true },
      ],
    });
    await req('POST', `/v1/assistants/${id}/model`, bob, { text: 'hi', save_history: false });
    expect(llm.chatRequests().at(-1)!.messages[0]!.content).toBe('Team core, key default-key, user Bob, unknown {{ other }}.');
    const none = (await req('GET', `/v1/assistants/${id}/users/prompt-variables`, bob)).json();
    expect(none).toMatchObject({ id: '', assistant_id: id, user_id: 'bob', variables_config: [] });
    const saved = await req('POST', `/v1/assistants/${id}/users/prompt-variables`, bob, {
      variables_config: [
        { variable_key: 'team', variable_value: 'platform' },
        { variable_key: 'api_key', variable_value: 'bobs-key' },
      ],
    });
    expect(saved.json()).toEqual({ message: 'Prompt variable mappings created or updated successfully' });
    const mine = (await req('GET', `/v1/assistants/${id}/users/prompt-variables`, bob)).json();
    expect(mine.variables_config).toEqual([
      { id: null, date: null, update_date: null, variable_key: 'team', variable_value: 'platform', is_sensitive: false },
      { id: null, date: null, update_date: null, variable_key: 'api_key', variable_value: '**********', is_sensitive: true },
    ]);
    await req('POST', `/v1/assistants/${id}/model`, bob, { text: 'hi', save_history: false });
    expect(llm.chatRequests().at(-1)!.messages[0]!.content).toBe('Team platform, key bobs-key, user Bob, unknown {{ other }}.');
    // Sending the mask back keeps the sealed value.
    await req('POST', `/v1/assistants/${id}/users/prompt-variables`, bob, { variables_config: [{ variable_key: 'api_key', variable_value: '**********' }] });
    await req('POST', `/v1/assistants/${id}/model`, bob, { text: 'hi', save_history: false });
    expect(llm.chatRequests().at(-1)!.messages[0]!.content).toBe('Team core, key bobs-key, user Bob, unknown {{ other }}.');
    // Alice's calls are not affected by Bob's values.
    await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'hi', save_history: false });
    expect(llm.chatRequests().at(-1)!.messages[0]!.content).toBe('Team core, key default-key, user Alice, unknown {{ other }}.');
    expect((await req('GET', `/v1/assistants/${id}/users/prompt-variables`, carol)).statusCode).toBe(403);
    expect((await req('GET', '/v1/assistants/missing/users/prompt-variables', bob)).statusCode).toBe(404);

    const preview = await req('POST', '/v1/assistants/system-prompt/validate', bob, { system_prompt_template: 'Hi {{ name }} of {{ team }}', prompt_vars: { name: 'Ann' }, assistant_id: id });
    expect(preview.json()).toEqual({ rendered_prompt: 'Hi Ann of core', is_valid: true, message: 'System prompt rendered successfully' });
    const bad = await req('POST', '/v1/assistants/system-prompt/validate', bob, { system_prompt_template: 'Hi {{ project name }}', prompt_vars: {} });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('System prompt validation failed');
  });

  it('integration per tool: unknown integrations are not accessible; removal by empty id; DELETE clears', async () => {
    const id = await create(alice, { name: 'Mapped' });
    const empty = (await req('GET', `/v1/assistants/${id}/users/mapping?workflow_id=w1`, bob)).json();
    expect(empty).toEqual({
      id: '',
      date: null,
      update_date: null,
      assistant_id: id,
      user_id: 'bob',
      tools_config: [],
      created_at: null,
      updated_at: null,
      has_assistant_scope_selection: false,
      workflow_id: 'w1',
    });
    const denied = await req('POST', `/v1/assistants/${id}/users/mapping`, bob, { tools_config: [{ name: 'Git', integration_id: 'int-1' }] });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toEqual({
      message: 'Integration is not accessible',
      details: 'The selected integration is not available to your account.',
      help: "Choose one of your own integrations or an integration of this assistant's project.",
    });
    expect((await req('POST', `/v1/assistants/${id}/users/mapping`, bob, { tools_config: [{ name: 'Git', integration_id: '' }] })).json()).toEqual({
      message: 'Mappings created or updated successfully',
    });
    expect((await req('GET', `/v1/assistants/${id}/users/mapping`, bob)).json()).toMatchObject({ tools_config: [], has_assistant_scope_selection: true });
    expect((await req('DELETE', `/v1/assistants/${id}/users/mapping`, bob)).json()).toEqual({ message: 'Mappings deleted successfully' });
    expect((await req('GET', `/v1/assistants/${id}/users/mapping`, bob)).json().has_assistant_scope_selection).toBe(false);
    expect((await req('POST', `/v1/assistants/${id}/users/mapping`, carol, { tools_config: [] })).statusCode).toBe(403);
  });

  it('project feature mappings: off → 403 texts; on → project admins enable (idempotent), members list, disable, 404 when absent', async () => {
    const offId = await create(alice, { name: 'Teams off' }, off);
    const gated = await req('GET', '/v1/assistants/projects/mapping?feature=teams&project=demo', alice, undefined, off);
    expect(gated.statusCode).toBe(403);
    expect(gated.json().error).toEqual({
      message: 'Feature not available',
      details: 'Teams Bot Integration is not enabled for this customer.',
      help: "Contact your system administrator to enable the 'features:teamsBotIntegration' component.",
    });
    expect((await req('POST', `/v1/assistants/${offId}/projects/mapping`, lead, { project_name: 'demo', feature: 'teams' }, off)).statusCode).toBe(403);

    const id = await create(alice, { name: 'Teams bot' });
    const notAdmin = await req('POST', `/v1/assistants/${id}/projects/mapping`, bob, { project_name: 'demo', feature: 'teams' });
    expect(notAdmin.statusCode).toBe(403);
    expect(notAdmin.json().error.details).toBe('You do not have the necessary permissions to manage assistant feature mappings for this project this entity.');
    for (let i = 0; i < 2; i++) {
      expect((await req('POST', `/v1/assistants/${id}/projects/mapping`, lead, { project_name: 'demo', feature: 'teams' })).json()).toEqual({
        message: 'Assistant enabled for project feature successfully',
      });
    }
    const listed = (await req('GET', '/v1/assistants/projects/mapping?feature=teams&project=demo', bob)).json();
    expect(listed.pagination).toEqual({ page: 0, per_page: 12, total: 1, pages: 1 });
    expect(listed.data[0].id).toBe(id);
    expect((await req('GET', '/v1/assistants/projects/mapping?feature=teams&project=demo', carol)).statusCode).toBe(403);
    expect((await req('GET', '/v1/assistants/projects/mapping?feature=slack&project=demo', bob)).statusCode).toBe(422);
    expect((await req('DELETE', `/v1/assistants/${id}/projects/mapping?project=demo&feature=teams`, admin)).json()).toEqual({
      message: 'Assistant disabled for project feature successfully',
    });
    const again = await req('DELETE', `/v1/assistants/${id}/projects/mapping?project=demo&feature=teams`, lead);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.message).toBe('Mapping not found');
    expect((await req('POST', '/v1/assistants/missing/projects/mapping', lead, { project_name: 'demo', feature: 'teams' })).statusCode).toBe(404);
  });

  it('templates and catalogs: prebuilt list and slug (admin-only ones hidden), builtin subagents, tools, context', async () => {
    const all = (await req('GET', '/v1/assistants/prebuilt', bob)).json();
    expect(all).toHaveLength(27);
    expect(all.find((t: { slug: string }) => t.slug === 'template-chatgpt-assistant')).toMatchObject({ name: '[Template] ChatGPT', id: null, project: 'demo', creator: 'system' });
    expect((await req('GET', '/v1/assistants/prebuilt', admin)).json()).toHaveLength(33);
    expect((await req('GET', '/v1/assistants/prebuilt/template-code-reviewer-assistant', bob)).json().name).toBe('[Template] Code Reviewer');
    const hidden = await req('GET', '/v1/assistants/prebuilt/template-faq-assistant', bob);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual({
      message: 'Prebuilt assistant not found',
      details: "No prebuilt assistant found with the slug 'template-faq-assistant'.",
      help: 'Please check the assistant slug and ensure it is correct. ',
    });
    expect((await req('GET', '/v1/assistants/builtin_subagents', bob)).json()).toEqual([{ id: 'GENERAL_PURPOSE_SUBAGENT', display_name: 'General Purpose' }]);
    const kits = (await req('GET', '/v1/assistants/tools', bob)).json() as Array<{ toolkit: string; tools: Array<{ name: string }> }>;
    expect(kits.map((k) => k.toolkit)).toEqual(['FileSystem', 'SQL', 'OpenAPI']);
    expect(kits[0]!.tools.map((t) => t.name)).toContain('read_file_from_file_system');
    expect((await req('GET', '/v1/assistants/context?project_name=demo', bob)).json()).toEqual([]);
    const noProject = await req('GET', '/v1/assistants/context', bob);
    expect(noProject.statusCode).toBe(422);
    expect(noProject.json().error.message).toMatch(/^query\.project_name: /);
  });

  it('export: a JSON bundle with the definition, readable sub-assistants and a models entry from env_vars', async () => {
    const sub = await create(alice, { name: 'Export helper', system_prompt: 'help', prompt_variables: [{ key: 'k', default_value: 'secret', is_sensitive: true }] });
    const id = await create(alice, { name: 'Exported', slug: 'exported-one', system_prompt: 'main', assistant_ids: [sub], conversation_starters: ['Hi'] });
    const res = await req('POST', `/v1/assistants/id/${id}/export`, bob, { env_vars: { azure_openai_url: 'https://x.openai.azure.com', azure_openai_api_key: 'k-1', openai_api_version: '2024-10-21' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="exported-one.codemie-assistant.json"');
    const bundle = res.json();
    expect(bundle).toMatchObject({ format: 'codemie-assistant-export', format_version: 1, assistant_id: id });
    expect(bundle.assistant).toMatchObject({ name: 'Exported', system_prompt: 'main', conversation_starters: ['Hi'], assistant_ids: [] });
    expect(bundle.sub_assistants[0]).toMatchObject({ id: sub, name: 'Export helper', prompt_variables: [{ key: 'k', default_value: '', is_sensitive: true }] });
    expect(bundle.models).toEqual([{ base_name: 'test-model', provider: 'azure', deployment_name: 'test-model', base_url: 'https://x.openai.azure.com', api_key: 'k-1', api_version: '2024-10-21' }]);
    expect((await req('POST', `/v1/assistants/id/${id}/export`, bob)).json().models).toEqual([]);
    expect((await req('POST', `/v1/assistants/id/${id}/export`, carol, {})).statusCode).toBe(403);
    expect((await req('POST', '/v1/assistants/id/missing/export', bob, {})).statusCode).toBe(404);
    // The bundle's assistant re-creates it.
    const again = await req('POST', '/v1/assistants', alice, { ...bundle.assistant, slug: null });
    expect(again.statusCode, again.body).toBe(200);
  });
});
