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
});
