/**
 * Usage analytics, budgets and activity events end to end over HTTP with real tokens, the real
 * provider adapters against the scripted test LLM server, on SQLite and PostgreSQL: every call
 * the test makes shows in the numbers (values, not shapes), a hard budget refuses the next call,
 * and each viewer sees what the reference lets them see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

type Row = Record<string, unknown>;

describe.each(DB_KINDS)('analytics on %s', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir();
  const h: Record<string, Record<string, string>> = {};
  let helper: string;
  let other: string;

  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: unknown) =>
    p.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const get = async (url: string, who: string) => {
    const res = await inject('GET', url, h[who]!);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const rows = async (path: string, who: string, q = '') => (await get(`/v1/analytics/${path}?time_period=last_24_hours${q}`, who)).data.rows as Row[];
  /** One model call: 100 tokens in, 50 out → $1 + $1 at the test prices. */
  const call = async (who: string, assistant: string, text: string, conversation?: string) => {
    llm.script({ text: `re: ${text}`, usage: { prompt_tokens: 100, completion_tokens: 50 } });
    return inject('POST', `/v1/assistants/${assistant}/model`, h[who]!, { text, ...(conversation ? { conversation_id: conversation } : {}) });
  };

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir, { models: [{ base_name: 'test-model', cost: { input: 0.01, output: 0.02 } }] });
    p = await startTestPlatform({ db, env: { ...env, CODEMIE_LLM_MAX_RETRIES: '0' } });
    await createUser(p, { username: 'alice', projects: ['demo'] });
    await createUser(p, { username: 'bob', projects: ['demo'] });
    await createUser(p, { username: 'carol', projects: ['other'] });
    await createUser(p, { username: 'dana', projects: ['demo'], adminProjects: ['demo'] });
    await createUser(p, { username: 'audrey', roles: ['auditor'], projects: [] });
    for (const u of ['alice', 'bob', 'carol', 'dana', 'audrey']) h[u] = authHeaders(await passwordToken(p, u));
    h.admin = authHeaders(await adminToken(p));
    const mk = async (who: string, name: string, project: string) => {
      const res = await inject('POST', '/v1/assistants', h[who]!, {
        name,
        description: 'd',
        system_prompt: 'Be brief.',
        llm_model_type: 'test-model',
        project,
        shared: true,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().assistantId as string;
    };
    helper = await mk('alice', 'Helper', 'demo');
    other = await mk('carol', 'Other Bot', 'other');
    // alice: two turns in one conversation and one in another; bob one; carol one (another project).
    expect((await call('alice', helper, 'one')).statusCode).toBe(200);
    const convs = (await get('/v1/conversations', 'alice')) as Array<{ id: string }> | { data: Array<{ id: string }> };
    const conversation = (Array.isArray(convs) ? convs : convs.data)[0]!.id;
    expect((await call('alice', helper, 'two', conversation)).statusCode).toBe(200);
    expect((await call('alice', helper, 'three')).statusCode).toBe(200);
    expect((await call('bob', helper, 'four')).statusCode).toBe(200);
    expect((await call('carol', other, 'five')).statusCode).toBe(200);
  });
  afterAll(async () => {
    await p?.stop();
    await llm?.close();
    tmp.cleanup();
  });

  it('summaries add up every call (tokens, money, assistants)', async () => {
    const body = await get('/v1/analytics/summaries?time_period=last_24_hours', 'admin');
    const m = Object.fromEntries((body.data.metrics as Array<{ id: string; value: number }>).map((x) => [x.id, x.value]));
    expect(m).toMatchObject({
      total_money_spent: 10,
      platform_cost: 10,
      total_input_tokens: 500,
      total_output_tokens: 250,
      total_tokens: 750,
      unique_assistants_invoked: 2,
      unique_workflows_invoked: 0,
    });
    expect(body.metadata.filters_applied).toEqual({ time_period: 'last_24_hours', start_date: null, end_date: null, users: null, projects: null });
    // A project filter; a plain user sees their own usage only.
    const demo = await get('/v1/analytics/summaries?projects=demo', 'admin');
    expect(demo.data.metrics.find((x: { id: string }) => x.id === 'total_money_spent').value).toBe(8);
    const mine = await get('/v1/analytics/summaries', 'bob');
    expect(mine.data.metrics.find((x: { id: string }) => x.id === 'total_money_spent').value).toBe(2);
  });

  it('users-spending and projects-spending: per-user and per-project money, paged, with totals', async () => {
    const res = await get('/v1/analytics/users-spending?time_period=last_24_hours&per_page=2', 'admin');
    expect(res.data.rows).toEqual([
      { user_email: 'alice@example.com', total_cost_usd: 6 },
      { user_email: 'bob@example.com', total_cost_usd: 2 },
    ]);
    expect(res.data.totals).toEqual({ total_cost_usd: 10 });
    expect(res.pagination).toEqual({ page: 0, per_page: 2, total_count: 3, has_more: true });
    const page1 = await get('/v1/analytics/users-spending?time_period=last_24_hours&per_page=2&page=1', 'admin');
    expect(page1.data.rows).toEqual([{ user_email: 'carol@example.com', total_cost_usd: 2 }]);
    expect(await rows('projects-spending', 'admin')).toEqual([
      { project_name: 'demo', total_cost_usd: 8 },
      { project_name: 'other', total_cost_usd: 2 },
    ]);
  });

  it('visibility: admins and auditors all, project admins their projects, others their own', async () => {
    const names = async (who: string) => (await rows('users-spending', who)).map((r) => r.user_email);
    expect(await names('audrey')).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);
    expect(await names('dana')).toEqual(['alice@example.com', 'bob@example.com']);
    expect(await names('alice')).toEqual(['alice@example.com']);
    expect(await names('carol')).toEqual(['carol@example.com']);
    const users = await get('/v1/analytics/users?time_period=last_24_hours', 'dana');
    expect(users.data.total_count).toBe(2);
    expect(users.data.users.map((u: { name: string }) => u.name)).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('assistants-chats, agents-usage, llms-usage, users-activity, projects-activity', async () => {
    const chats = await rows('assistants-chats', 'admin');
    expect(chats[0]).toMatchObject({
      assistant: 'Helper',
      total_chats: 3,
      total_messages: 4,
      unique_users: 2,
      min_msg_per_chat: 1,
      median_msg_per_chat: 1,
      max_msg_per_chat: 2,
      success_ops: 4,
      total_errors: 0,
      error_rate_percent: 0,
      total_tokens: 600,
      total_cost_usd: 8,
      cost_per_op_usd: 2,
    });
    expect(chats[1]).toMatchObject({ assistant: 'Other Bot', total_messages: 1, total_cost_usd: 2 });
    expect(await rows('agents-usage', 'admin')).toEqual([
      { assistant_name: 'Helper', total_conversations: 3, total_cost: 8, unique_users: 2, unique_tools_used: 0, tool_errors: 0, last_error: null },
      { assistant_name: 'Other Bot', total_conversations: 1, total_cost: 2, unique_users: 1, unique_tools_used: 0, tool_errors: 0, last_error: null },
    ]);
    expect(await rows('llms-usage', 'admin')).toEqual([{ model_name: 'test-model', total_requests: 5 }]);
    const act = await rows('users-activity', 'admin');
    expect(act[0]).toMatchObject({
      user_email: 'alice@example.com',
      unique_projects: 1,
      assistant_cost: 6,
      workflow_cost: 0,
      total_cost: 6,
      assistant_tokens: 450,
      llm_tokens: 450,
    });
    const proj = await rows('projects-activity', 'admin');
    expect(proj[0]).toMatchObject({ project_name: 'demo', unique_users: 2, assistant_cost: 8, total_cost: 8, assistant_tokens: 600 });
  });

  it('bad time filters → 400 in the reference envelope', async () => {
    const res = await inject('GET', '/v1/analytics/summaries?time_period=last_century', h.admin!);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('Invalid request parameters');
    expect(res.json().error.details).toContain("Invalid time_period: 'last_century'");
    const reversed = await inject('GET', '/v1/analytics/workflows?start_date=2026-01-02T00:00:00Z&end_date=2026-01-01T00:00:00Z', h.admin!);
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.details).toBe('start_date must be before end_date');
    expect((await inject('GET', '/v1/analytics/tools-usage?per_page=0', h.admin!)).statusCode).toBe(422);
  });

  it('a project budget: soft limit noted, hard limit refuses the next call, visible in analytics and activity', async () => {
    // demo has alice, bob, dana and the admin: $40 max, $2 soft → $10 / $0.50 each. alice has spent $6 already.
    const created = await inject('POST', '/v1/admin/project-budgets', h.dana!, {
      budget_id: 'demo-platform',
      project_name: 'demo',
      budget_category: 'platform',
      name: 'Demo platform',
      soft_budget: 2,
      max_budget: 40,
      budget_duration: '30d',
    });
    expect(created.statusCode, created.body).toBe(201);
    const b = created.json();
    expect(b).toMatchObject({ project_name: 'demo', budget_category: 'platform', member_count: 4, allocated_member_budget_total: 40, budget_type: 'project' });
    expect(b.budget_id).toMatch(/^demo-platform-/);
    expect(b.member_allocations.map((a: Row) => a.allocated_max_budget)).toEqual([10, 10, 10, 10]);
    // Non-admins of demo cannot create budgets; a second platform budget for demo is a conflict.
    expect(
      (await inject('POST', '/v1/admin/project-budgets', h.alice!, { ...b, budget_id: 'x', soft_budget: 1, max_budget: 2, budget_duration: '1d' })).statusCode,
    ).toBe(403);
    const dup = await inject('POST', '/v1/admin/project-budgets', h.admin!, {
      budget_id: 'again',
      project_name: 'demo',
      budget_category: 'platform',
      name: 'n',
      soft_budget: 0,
      max_budget: 1,
      budget_duration: '1d',
    });
    expect(dup.statusCode).toBe(409);
    // An amount too large to share out exactly is a 422 and stores nothing (the fuzzer once found a 500 here).
    const huge = await inject('POST', '/v1/admin/project-budgets', h.admin!, {
      budget_id: 'huge',
      project_name: 'demo',
      budget_category: 'cli',
      name: 'n',
      soft_budget: 1,
      max_budget: 1.7976931348623157e308,
      budget_duration: '1d',
    });
    expect(huge.statusCode).toBe(422);
    expect(huge.body).toContain('max_budget');
    expect((await inject('PATCH', `/v1/admin/project-budgets/${b.budget_id}`, h.admin!, { max_budget: 1.4e308 })).statusCode).toBe(422);
    const listed = await inject('GET', '/v1/admin/project-budgets?project_name=demo', h.admin!);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(JSON.stringify(listed.json())).not.toContain('huge');
    // Periods of zero length or past ten years are refused, and nothing is stored (found by the fuzzer: 500s).
    for (const budget_duration of ['0d', '0m', '9854885654789147565301d', '3651d']) {
      const bad = await inject('POST', '/v1/admin/project-budgets', h.admin!, {
        budget_id: 'bad',
        project_name: 'demo',
        budget_category: 'cli',
        name: 'n',
        soft_budget: 0,
        max_budget: 1,
        budget_duration,
      });
      expect(bad.statusCode, budget_duration).toBe(400);
      expect(bad.json().error.message).toBe('Invalid budget_duration');
    }
    const patched = await inject('PATCH', `/v1/admin/project-budgets/${b.budget_id}`, h.admin!, { budget_duration: '0d' });
    expect(patched.statusCode).toBe(400);
    expect(
      (await inject('GET', '/v1/admin/project-budgets?project_name=demo', h.admin!)).json().items.map((x: Row) => [x.budget_category, x.budget_duration]),
    ).toEqual([['platform', '30d']]);

    // Spending counts from the budget's period start (its creation). alice's allocation overridden to
    // $4 max, $1 soft: two more calls ($0 → $2 → $4; the second after reaching the soft limit), then refused.
    const aliceId = (await p.services.identity.admin.getUser('alice')).id;
    const ov = await inject('PATCH', `/v1/admin/project-budgets/${b.budget_id}/members/${aliceId}`, h.admin!, {
      allocated_max_budget: 4,
      allocated_soft_budget: 1,
    });
    expect(ov.statusCode, ov.body).toBe(200);
    expect(ov.json().member_allocations.find((a: Row) => a.user_id === aliceId)).toMatchObject({ allocation_mode: 'override', allocated_max_budget: 4 });
    expect((await call('alice', helper, 'six')).statusCode).toBe(200);
    expect((await call('alice', helper, 'seven')).statusCode).toBe(200);
    const refused = await call('alice', helper, 'eight');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.message).toBe('Your LLM usage budget has been exceeded. Please contact your administrator to increase the limit.');
    expect(refused.json().error.details).toBe('Budget has been exceeded: Your current spending: 4, available budget: 4');
    // A workflow execution is refused the same way, before anything is stored.
    const wf = await inject('POST', '/v1/workflows', h.alice!, {
      name: 'Budgeted flow',
      description: 'd',
      project: 'demo',
      yaml_config:
        'assistants:\n  - id: a\n    system_prompt: Be brief.\nstates:\n  - id: s\n    assistant_id: a\n    task: go\n    next:\n      state_id: end\n',
    });
    expect(wf.statusCode, wf.body).toBe(200);
    const run = await inject('POST', `/v1/workflows/${wf.json().data.id}/executions`, h.alice!, { user_input: 'go' });
    expect(run.statusCode).toBe(400);
    expect(run.json().error.message).toBe('Your LLM usage budget has been exceeded. Please contact your administrator to increase the limit.');
    expect((await inject('GET', `/v1/workflows/${wf.json().data.id}/executions`, h.alice!)).json().pagination.total).toBe(0);
    // Nothing ran or was counted for the refused call; bob still has budget (his second call is past his soft $0.50).
    expect((await rows('users-spending', 'admin'))[0]).toEqual({ user_email: 'alice@example.com', total_cost_usd: 10 });
    expect((await call('bob', helper, 'nine')).statusCode).toBe(200);
    expect((await call('bob', helper, 'ten')).statusCode).toBe(200);

    expect(await rows('budget-hard-limit', 'admin')).toEqual([{ user_email: 'alice@example.com', max_spent: 4 }]);
    // alice reached her soft $1 at $2 (at $4 the hard limit refused before the soft check); bob his $0.50 at $2.
    expect(await rows('budget-soft-limit', 'admin')).toEqual([
      { user_email: 'alice@example.com', max_spent: 2 },
      { user_email: 'bob@example.com', max_spent: 2 },
    ]);

    // A reset starts a new period: alice may call again.
    const reset = await inject('POST', `/v1/admin/project-budgets/${b.budget_id}/reset`, h.admin!);
    expect(reset.statusCode).toBe(200);
    expect((await call('alice', helper, 'eleven')).statusCode).toBe(200);

    await p.infra.audit.flush();
    const events = await get('/v1/admin/activity-events?domain=budget_management&sort_dir=asc', 'admin');
    expect(events.data.map((e: Row) => e.event_type)).toEqual([
      'budget.project_budget.created',
      'budget.member_allocation.overridden',
      'budget.soft_limit.reached',
      'budget.hard_limit.reached',
      'budget.soft_limit.reached',
      'budget.project_budget.reset',
    ]);
    expect(events.data[0]).toMatchObject({
      domain: 'budget_management',
      entity_type: 'project_budget',
      entity_id: b.budget_id,
      actor_email: 'dana@example.com',
    });
    expect(events.pagination).toEqual({ page: 0, per_page: 50, total: 6, pages: 1 });
    const opts = await get('/v1/admin/activity-events/filter-options', 'audrey');
    expect(opts.domains).toContain('budget_management');
    expect(opts.mapping.budget_management.entity_types).toEqual(['project_budget']);
    expect((await inject('GET', '/v1/admin/activity-events', h.alice!)).statusCode).toBe(403);
  });

  /** A user alone in a new project, with a token and an assistant there. */
  const soloProject = async (username: string, project: string) => {
    await createUser(p, { username, projects: [project] });
    h[username] = authHeaders(await passwordToken(p, username));
    const res = await inject('POST', '/v1/assistants', h[username]!, {
      name: `${username} bot`,
      description: 'd',
      system_prompt: 'Be brief.',
      llm_model_type: 'test-model',
      project,
      shared: false,
    });
    expect(res.statusCode, res.body).toBe(200);
    return { id: (await p.services.identity.admin.getUser(username)).id, assistant: res.json().assistantId as string };
  };
  const budget = async (project: string, max: number, duration = '1d') => {
    const res = await inject('POST', '/v1/admin/project-budgets', h.admin!, {
      budget_id: `${project}-b`,
      project_name: project,
      budget_category: 'platform',
      name: `${project} budget`,
      soft_budget: 0,
      max_budget: max,
      budget_duration: duration,
      allocation_mode: 'equal',
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().budget_id as string;
  };

  it('a budget period spanning several hours: whole hours from the rollup, edge hours from the records, the hard limit exact at the boundary', async () => {
    const erin = await soloProject('erin', 'hours');
    const id = await budget('hours', 10);
    // The period started 5 h 20 min ago (set in the store before any check reads the budget).
    const HOUR = 3_600_000;
    const start = Date.now() - 5 * HOUR - 20 * 60_000;
    await p.infra.store.db
      .updateTable('project_budgets')
      .set({ period_start: new Date(start).toISOString() })
      .where('budget_id', '=', id)
      .execute();
    const at = (ms: number) => new Date(ms).toISOString();
    const rec = (key: string, date: string, money: number) => ({
      key: `test:${key}`,
      kind: 'assistant' as const,
      user: { id: erin.id, email: 'erin@example.com' },
      project: 'hours',
      date,
      assistantId: erin.assistant,
      model: 'test-model',
      usage: { input_tokens: 1, output_tokens: 1, money_spent: money },
      status: 'success' as const,
    });
    // $100 a minute before the period (not counted); $1.5 in the partial first hour; $2 in each of three
    // whole hours (written one call at a time, and one replaced: the rollup keeps the last); $0.5 a minute ago.
    await p.infra.usage.record(rec('before', at(start - 60_000), 100));
    await p.infra.usage.record(rec('edge', at(start + 60_000), 1.5));
    for (const k of [1, 2, 3]) await p.infra.usage.record(rec(`h${k}`, at(start + k * HOUR + 30 * 60_000), k === 2 ? 7 : 2));
    await p.infra.usage.record(rec('h2', at(start + 2 * HOUR + 30 * 60_000), 2));
    await p.infra.usage.record(rec('recent', at(Date.now() - 60_000), 0.5));
    const rolled = await p.infra.store.db
      .selectFrom('usage_rollup')
      .select((eb) => eb.fn.sum<number>('money_spent').as('m'))
      .where('project', '=', 'hours')
      .executeTakeFirst();
    expect(Number(rolled?.m)).toBe(108);
    // $8 spent of $10: one more $2 call runs, reaching $10 exactly; the next is refused at exactly the limit.
    expect((await call('erin', erin.assistant, 'one')).statusCode).toBe(200);
    const refused = await call('erin', erin.assistant, 'two');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details).toBe('Budget has been exceeded: Your current spending: 10, available budget: 10');
    // A cent more of budget and the call runs again (the patch takes effect on the next call).
    expect((await inject('PATCH', `/v1/admin/project-budgets/${id}`, h.admin!, { max_budget: 10.01 })).statusCode).toBe(200);
    expect((await call('erin', erin.assistant, 'three')).statusCode).toBe(200);
    const again = await call('erin', erin.assistant, 'four');
    expect(again.json().error.details).toBe('Budget has been exceeded: Your current spending: 12, available budget: 10.01');
  });

  it('a budget created, patched or deleted takes effect on the next call', async () => {
    const finn = await soloProject('finn', 'live');
    // No budget: the check reads (and caches) none.
    expect((await call('finn', finn.assistant, 'a')).statusCode).toBe(200);
    expect((await call('finn', finn.assistant, 'b')).statusCode).toBe(200);
    // Created with $2: the period starts now, one $2 call runs, the next is refused.
    const id = await budget('live', 2);
    expect((await call('finn', finn.assistant, 'c')).statusCode).toBe(200);
    expect((await call('finn', finn.assistant, 'd')).statusCode).toBe(400);
    // Raised to $3: runs once more ($4 spent), then refused.
    expect((await inject('PATCH', `/v1/admin/project-budgets/${id}`, h.admin!, { max_budget: 3 })).statusCode).toBe(200);
    expect((await call('finn', finn.assistant, 'e')).statusCode).toBe(200);
    const refused = await call('finn', finn.assistant, 'f');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details).toBe('Budget has been exceeded: Your current spending: 4, available budget: 3');
    // Deleted: no limit any more.
    expect((await inject('DELETE', `/v1/admin/project-budgets/${id}`, h.admin!)).statusCode).toBe(204);
    expect((await call('finn', finn.assistant, 'g')).statusCode).toBe(200);
    // A member override is a budget write too: a new $1 budget refuses once $2 are spent... unless finn's
    // allocation is raised.
    const id2 = await budget('live', 1);
    expect((await call('finn', finn.assistant, 'h')).statusCode).toBe(200);
    expect((await call('finn', finn.assistant, 'i')).statusCode).toBe(400);
    const ov = await inject('PATCH', `/v1/admin/project-budgets/${id2}/members/${finn.id}`, h.admin!, { allocated_max_budget: 5, allocated_soft_budget: 0 });
    expect(ov.statusCode, ov.body).toBe(200);
    // finn's own allocation is $5 now, but the project's $1 max still applies to the project as a whole.
    expect((await call('finn', finn.assistant, 'j')).statusCode).toBe(400);
    expect((await inject('PATCH', `/v1/admin/project-budgets/${id2}`, h.admin!, { max_budget: 10 })).statusCode).toBe(200);
    expect((await call('finn', finn.assistant, 'k')).statusCode).toBe(200);
  });
});
