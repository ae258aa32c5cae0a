/** Workflow versions (list/get/compare/rollback), marketplace publishing and prebuilt templates over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../test/helpers.js';
import { alice, bob, eve, startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';

const doc = (role: string) => `
assistants:
  - id: a
    system_prompt: "${role}"
states:
  - id: only
    assistant_id: a
    task: "Answer"
    next:
      state_id: end
`;

const body = (yaml: string, extra: Record<string, unknown> = {}) => ({ name: 'Versioned', description: 'd', project: 'demo', yaml_config: yaml, ...extra });

describe.each(DB_KINDS)('workflow catalog (%s)', (db) => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv({ db });
  });
  afterAll(() => env?.close());

  it('versions: one per save that changes the workflow; list, get, compare, rollback; history newest first', async () => {
    const id = await env.createWorkflow(doc('ROLE v1'), alice, { name: 'Versioned' });
    expect((await env.api('PUT', `/v1/workflows/${id}`, body(doc('ROLE v2')))).status).toBe(200);
    // a save that changes nothing versioned makes no new version
    expect((await env.api('PUT', `/v1/workflows/${id}`, body(doc('ROLE v2')))).status).toBe(200);
    expect((await env.api('PUT', `/v1/workflows/${id}`, body(doc('ROLE v2'), { name: 'Renamed' }))).status).toBe(200);

    const list = await env.api('GET', `/v1/workflows/${id}/versions`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total_versions: 3, workflow_name: 'Renamed', workflow_id: id });
    expect(list.body.versions.map((v: { version_number: number; name: string }) => [v.version_number, v.name])).toEqual([
      [3, 'Renamed'],
      [2, 'Versioned'],
      [1, 'Versioned'],
    ]);
    const v1 = await env.api('GET', `/v1/workflows/${id}/versions/1`);
    expect(v1.body).toMatchObject({ version_number: 1, yaml_config: doc('ROLE v1'), created_by: { user_id: 'alice' }, change_notes: null });
    const nf = await env.api('GET', `/v1/workflows/${id}/versions/9`);
    expect(nf.status).toBe(404);
    expect(nf.body.error).toMatchObject({ message: 'Version not found', details: `Version 9 not found for workflow ${id}` });
    expect((await env.api('GET', `/v1/workflows/${id}/versions`, undefined, eve)).status).toBe(403);

    const cmp = await env.api('GET', `/v1/workflows/${id}/versions/1/compare/3`);
    expect(cmp.body.differences.values_changed).toMatchObject({ "root['name']": { old_value: 'Versioned', new_value: 'Renamed' } });
    // lists compare ignoring order (DeepDiff ignore_order): the changed assistant is one removed, one added
    expect(JSON.stringify(cmp.body.differences.iterable_item_removed)).toContain('ROLE v1');
    expect(JSON.stringify(cmp.body.differences.iterable_item_added)).toContain('ROLE v2');
    expect(cmp.body.change_summary).toContain('Changes from version 1 to version 3');

    const wf = (await env.api('GET', `/v1/workflows/id/${id}`)).body;
    expect(wf.yaml_config_history.map((h: { yaml_config: string }) => h.yaml_config)).toEqual([doc('ROLE v1')]);

    expect((await env.api('POST', `/v1/workflows/${id}/versions/1/rollback`, {}, bob)).status).toBe(403);
    const current = await env.api('POST', `/v1/workflows/${id}/versions/3/rollback`, {});
    expect(current.status).toBe(400);
    expect(current.body.error.message).toBe('Cannot rollback to current version');
    const rb = await env.api('POST', `/v1/workflows/${id}/versions/1/rollback`, {});
    expect(rb.body).toEqual({ message: 'Rolled back to version 1. Created new version 4' });
    const after = (await env.api('GET', `/v1/workflows/id/${id}`)).body;
    expect(after).toMatchObject({ name: 'Versioned', yaml_config: doc('ROLE v1') });
    expect((await env.api('GET', `/v1/workflows/${id}/versions/4`)).body.change_notes).toBe('Rolled back to version 1');
    // the rolled-back document runs
    const ex = await env.execute(id, { user_input: 'hi' });
    await env.waitFor(id, ex.execution_id, ['Succeeded']);
    expect(env.llm.chatRequests().some((r) => JSON.stringify(r.messages).includes('ROLE v1'))).toBe(true);

    expect((await env.api('DELETE', `/v1/workflows/${id}`)).status).toBe(200);
    expect((await env.api('GET', `/v1/workflows/${id}/versions`)).status).toBe(404);
  });

  it('prebuilt templates: listed with filters, fetched by slug, and each one saves and runs', async () => {
    const list = await env.api('GET', '/v1/workflows/prebuilt');
    expect(list.status).toBe(200);
    const slugs = list.body.map((t: { slug: string }) => t.slug);
    expect(slugs).toEqual(
      expect.arrayContaining([
        'template-code-review-pipeline',
        'template-document-batch-summariser',
        'template-support-ticket-triage',
        'template-research-brief',
      ]),
    );
    expect(list.body[0]).toMatchObject({ id: null, project: 'demo', shared: true, mode: 'Sequential' });
    expect(list.body.map((t: { name: string }) => t.name)).toEqual([...list.body.map((t: { name: string }) => t.name)].sort());
    const support = await env.api('GET', `/v1/workflows/prebuilt?filters=${encodeURIComponent(JSON.stringify({ categories: ['support'] }))}`);
    expect(support.body.map((t: { slug: string }) => t.slug)).toEqual(['template-support-ticket-triage']);
    const byName = await env.api('GET', `/v1/workflows/prebuilt?filters=${encodeURIComponent(JSON.stringify({ search: 'code review' }))}`);
    expect(byName.body.map((t: { slug: string }) => t.slug)).toEqual(['template-code-review-pipeline']);
    expect((await env.api('GET', '/v1/workflows/prebuilt?filters=nope')).status).toBe(400);
    const nf = await env.api('GET', '/v1/workflows/prebuilt/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error).toMatchObject({ message: 'Workflow template not found', details: "No workflow template found with the slug 'nope'." });

    const create = async (slug: string) => {
      const t = (await env.api('GET', `/v1/workflows/prebuilt/${slug}`)).body;
      expect(t.states.length).toBeGreaterThan(1);
      return env.createWorkflow(t.yaml_config, alice, { name: t.name, description: t.description });
    };
    const review = await create('template-code-review-pipeline');
    const r = await env.execute(review, { user_input: 'x = 1/0' });
    expect((await env.waitFor(review, r.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');

    const triage = await create('template-support-ticket-triage');
    env.llm.script({ text: '{"category": "question"}' });
    const tr = await env.execute(triage, { user_input: 'How do I reset my password?' });
    expect((await env.waitFor(triage, tr.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');
    expect((await env.states(triage, tr.execution_id)).map((s: { name: string }) => s.name)).toEqual(['classify', 'question']);

    const batch = await create('template-document-batch-summariser');
    env.llm.script({ text: '{"documents": [{"text": "Doc A"}, {"text": "Doc B"}]}' });
    const b = await env.execute(batch, { user_input: 'Doc A\n\nDoc B' });
    expect((await env.waitFor(batch, b.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');
    const names = (await env.states(batch, b.execution_id)).map((s: { name: string }) => s.name);
    expect(names.filter((n: string) => n === 'summarise')).toHaveLength(2);
    expect(names.at(-1)).toBe('digest');

    const brief = await create('template-research-brief');
    const rb = await env.execute(brief, { user_input: 'electric bikes' });
    await env.waitFor(brief, rb.execution_id, ['Interrupted']);
    expect((await env.api('PUT', `/v1/workflows/${brief}/executions/${rb.execution_id}/resume`, {})).status).toBe(200);
    expect((await env.waitFor(brief, rb.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');
  });

  it('marketplace: validate, publish with categories (then every user sees it), unpublish', async () => {
    const id = await env.createWorkflow(doc('ROLE market'), alice, { name: 'Market', shared: false });
    const v = await env.api('POST', `/v1/workflows/${id}/marketplace/publish/validate`);
    expect(v.body).toEqual({ message: `Workflow ${id} is ready to be published to marketplace`, inline_credentials: [], workflow_id: id });
    expect((await env.api('POST', `/v1/workflows/${id}/marketplace/publish`, { categories: ['engineering'] }, bob)).status).toBe(404);
    const badCat = await env.api('POST', `/v1/workflows/${id}/marketplace/publish`, { categories: ['no-such'] });
    expect(badCat.status).toBe(400);
    expect(badCat.body.error.message).toBe("Invalid category IDs: ['no-such']");
    expect((await env.api('POST', `/v1/workflows/${id}/marketplace/publish`, { categories: [] })).status).toBe(422);
    expect((await env.api('GET', `/v1/workflows/id/${id}`, undefined, eve)).status).toBe(403);

    const pub = await env.api('POST', `/v1/workflows/${id}/marketplace/publish`, { categories: ['engineering', 'devops'] });
    expect(pub.status).toBe(200);
    expect(pub.body).toMatchObject({ id, is_global: true, categories: ['engineering', 'devops'] });
    const seen = await env.api('GET', `/v1/workflows/id/${id}`, undefined, eve);
    expect(seen.status).toBe(200);
    expect(seen.body.user_abilities).toEqual(['read']);
    const market = await env.api('GET', '/v1/workflows?scope=marketplace', undefined, eve);
    expect(market.body.data.map((w: { id: string }) => w.id)).toContain(id);
    const byCat = await env.api(
      'GET',
      `/v1/workflows?scope=marketplace&filters=${encodeURIComponent(JSON.stringify({ categories: ['devops'] }))}`,
      undefined,
      eve,
    );
    expect(byCat.body.data.map((w: { id: string }) => w.id)).toEqual([id]);
    // eve may run it; her executions are hers
    const ex = await env.execute(id, { user_input: 'hi' }, eve);
    expect(ex.created_by.user_id).toBe('eve');
    expect((await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`, undefined, eve)).status).toBe(200);
    for (
      let i = 0;
      i < 200 && (await env.api('GET', `/v1/workflows/${id}/executions/${ex.execution_id}`, undefined, eve)).body.overall_status === 'In Progress';
      i++
    )
      await new Promise((r) => setTimeout(r, 20));

    const un = await env.api('POST', `/v1/workflows/${id}/marketplace/unpublish`);
    expect(un.body).toMatchObject({ is_global: false });
    expect((await env.api('GET', `/v1/workflows/id/${id}`, undefined, eve)).status).toBe(403);

    const stored = await env.createWorkflow(doc('x').replace('system_prompt: "x"', 'assistant_id: stored-1'), alice);
    const refused = await env.api('POST', `/v1/workflows/${stored}/marketplace/publish/validate`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('Marketplace workflows cannot use external (non-virtual) assistants or skills');
  });

  it('generate: the model writes the YAML; an invalid answer is sent back with the error; never returned invalid', async () => {
    const valid = [
      '```yaml',
      'name: Greeter',
      'description: Says hello.',
      'execution_config:',
      '  assistants:',
      '    - id: greeter',
      '      system_prompt: You greet people.',
      '  states:',
      '    - id: greet',
      '      assistant_id: greeter',
      '      task: "Greet {{user_input}}"',
      '      next:',
      '        state_id: end',
      '```',
    ].join('\n');
    const invalid = valid.replace('state_id: end', 'state_id: nowhere');
    env.llm.reset();
    env.llm.script({ text: invalid }, { text: valid });
    const before = (await env.api('GET', '/v1/workflows?per_page=200')).body.pagination.total;
    const r = await env.api('POST', '/v1/workflows/generate', { text: 'a workflow that greets the user' });
    expect(r.status).toBe(200);
    expect(r.body.workflow_id).toBeUndefined();
    expect(r.body.workflow_config).toMatchObject({ name: 'Greeter', description: 'Says hello.', project: 'demo', mode: 'Sequential' });
    expect(r.body.workflow_config.states.map((x: { id: string }) => x.id)).toEqual(['greet']);
    const calls = env.llm.chatRequests().filter((c) => String(c.messages.find((m) => m.role === 'system')?.content).includes('execution_config'));
    expect(calls).toHaveLength(2);
    expect(JSON.stringify(calls[1].messages)).toContain("undefined state 'nowhere'");
    expect((await env.api('GET', '/v1/workflows?per_page=200')).body.pagination.total).toBe(before);

    // persist saves it; the saved document runs
    env.llm.script({ text: valid });
    const p = await env.api('POST', '/v1/workflows/generate', { text: 'greet', persist: true });
    expect(p.status).toBe(200);
    const saved = await env.api('GET', `/v1/workflows/id/${p.body.workflow_id}`);
    expect(saved.body).toMatchObject({ name: 'Greeter', yaml_config: p.body.workflow_config.yaml_config });
    const ex = await env.execute(p.body.workflow_id, { user_input: 'Ann' });
    expect((await env.waitFor(p.body.workflow_id, ex.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');

    // never valid: 500 naming the last problem, nothing saved
    env.llm.reset();
    env.llm.script({ text: 'not yaml: [' }, { text: invalid }, { text: invalid });
    const count = (await env.api('GET', '/v1/workflows?per_page=200')).body.pagination.total;
    const bad = await env.api('POST', '/v1/workflows/generate', { text: 'greet', persist: true });
    expect(bad.status).toBe(502);
    expect(bad.body.error.message).toBe('Workflow generation failed');
    expect(bad.body.error.details).toContain("undefined state 'nowhere'");
    expect((await env.api('GET', '/v1/workflows?per_page=200')).body.pagination.total).toBe(count);
    expect((await env.api('POST', '/v1/workflows/generate', { text: '' })).status).toBe(422);
  });
});
