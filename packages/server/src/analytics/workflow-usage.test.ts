/**
 * Workflow executions as the analytics see them: a row per state (tokens, cost, model) and per
 * execution (its outcome), tool calls of assistant states and of tool nodes (MCP servers), on
 * SQLite and PostgreSQL; a state that is written again (the same row id) is counted once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../test/helpers.js';
import { alice, bob, startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';
import type { AgentTool } from '../llm/tool.js';
import type { AuthUser } from '../api/auth.js';

const TOOLED = `
assistants:
  - id: a
    system_prompt: "ROLE searcher"
    mcp_servers:
      - name: search-mcp
        config:
          url: http://127.0.0.1:1/mcp
tools:
  - id: t
    tool: lookup
    tool_args:
      query: "direct"
    mcp_server:
      name: direct-mcp
      config:
        url: http://127.0.0.1:1/mcp
states:
  - id: ask
    assistant_id: a
    task: "Find it"
    next:
      state_id: call
  - id: call
    tool_id: t
    next:
      state_id: end
`;

const FAILING = `
assistants:
  - id: a
    system_prompt: "ROLE failing"
states:
  - id: only
    assistant_id: a
    task: "Answer"
    next:
      state_id: end
`;

describe.each(DB_KINDS)('workflow usage (%s)', (db) => {
  let env: WorkflowEnv;
  const lookup: AgentTool = {
    name: 'lookup',
    description: 'test tool',
    inputSchema: { type: 'object' },
    async execute(args) {
      return { output: JSON.stringify({ found: args }), isError: false };
    },
  };
  beforeAll(async () => {
    env = await startWorkflowEnv({
      db,
      module: () => ({
        openToolset: async (servers) => ({
          tools: servers.length ? [{ ...lookup, mcpServer: String((servers[0] as { name: string }).name) }] : [],
          warnings: [],
          close: async () => undefined,
        }),
      }),
    });
  });
  afterAll(() => env?.close());

  const rows = async (path: string, user: Partial<AuthUser> = { ...alice, isAdmin: true }, period = 'last_hour') => {
    const r = await env.api('GET', `/v1/analytics/${path}?time_period=${period}`, undefined, user);
    expect(r.status, r.text).toBe(200);
    return r.body.data.rows as Array<Record<string, unknown>>;
  };

  it('counts runs, outcomes, cost and tool calls per workflow', async () => {
    const id = await env.createWorkflow(TOOLED, alice, { name: 'Searcher' });
    for (const who of [alice, bob]) {
      // The assistant state: a tool call, then the answer (2 model requests of 100 in / 50 out).
      env.llm.script(
        { toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }], usage: { prompt_tokens: 100, completion_tokens: 50 } },
        { text: 'found', usage: { prompt_tokens: 100, completion_tokens: 50 } },
      );
      const ex = await env.execute(id, { user_input: 'go' }, who);
      expect((await env.waitFor(id, ex.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');
    }
    const failId = await env.createWorkflow(FAILING, alice, { name: 'Breaks' });
    env.llm.script({ status: 400, error: 'bad request' });
    const ex = await env.execute(failId, { user_input: 'go' });
    expect((await env.waitFor(failId, ex.execution_id, ['Succeeded', 'Failed'])).overall_status).toBe('Failed');

    const wf = await rows('workflows');
    expect(wf).toEqual([
      {
        workflow_name: 'Searcher',
        total_runs: 2,
        success: 2,
        failed: 0,
        aborted: 0,
        success_rate_percent: 100,
        // 2 runs × 2 requests × (100 × $0.000001 + 50 × $0.000002)
        total_cost_usd: 0.0008,
        avg_cost_usd: 0.0004,
        total_tokens: 600,
        avg_time_seconds: expect.any(Number),
        users: 2,
        last_run: expect.any(String),
      },
      expect.objectContaining({ workflow_name: 'Breaks', total_runs: 1, success: 0, failed: 1, success_rate_percent: 0, total_cost_usd: 0 }),
    ]);

    expect(await rows('tools-usage')).toEqual([
      {
        tool_name: 'lookup',
        tool_type: 'mcp',
        total_invocations: 4,
        unique_users: 2,
        unique_assistants: 1,
        total_tokens: 0,
        total_errors: 0,
        last_error_class: null,
      },
    ]);
    expect(await rows('mcp-servers')).toEqual([
      { mcp_name: 'direct-mcp', total_requests: 2 },
      { mcp_name: 'search-mcp', total_requests: 2 },
    ]);
    expect(await rows('mcp-servers-by-users')).toEqual([
      { user_name: 'alice@example.com', mcp_name: 'direct-mcp', total_requests: 1 },
      { user_name: 'alice@example.com', mcp_name: 'search-mcp', total_requests: 1 },
      { user_name: 'bob@example.com', mcp_name: 'direct-mcp', total_requests: 1 },
      { user_name: 'bob@example.com', mcp_name: 'search-mcp', total_requests: 1 },
    ]);
    expect(await rows('llms-usage')).toEqual([{ model_name: 'test-model', total_requests: 2 }]);

    const summary = await env.api('GET', '/v1/analytics/summaries?time_period=last_hour', undefined, { ...alice, isAdmin: true });
    const m = Object.fromEntries((summary.body.data.metrics as Array<{ id: string; value: number }>).map((x) => [x.id, x.value]));
    expect(m).toMatchObject({ unique_workflows_invoked: 3, mcps_invoked: 4, total_input_tokens: 400, total_output_tokens: 200 });
    // bob sees his own run only.
    expect((await rows('workflows', bob)).map((r) => [r.workflow_name, r.total_runs])).toEqual([['Searcher', 1]]);
  });

  it('writing a unit of work again replaces its row (a retried or taken-over state is counted once)', async () => {
    const usage = env.platform.infra.usage;
    const base = {
      key: 'wf_state:retry-test',
      kind: 'workflow_state' as const,
      user: { id: 'zed', username: 'zed' },
      project: 'demo',
      workflowId: 'w-retry',
      workflowName: 'Retry',
      executionId: 'e-retry',
      model: 'test-model',
      status: 'success' as const,
      date: new Date(Date.now() - 3 * 3_600_000).toISOString(),
    };
    await usage.record({ ...base, usage: { input_tokens: 10, output_tokens: 5, money_spent: 0.5 } });
    await usage.record({ ...base, usage: { input_tokens: 20, output_tokens: 7, money_spent: 0.75 } });
    await usage.record({ ...base, key: 'workflow:e-retry', kind: 'workflow', status: 'error' });
    await usage.record({ ...base, key: 'workflow:e-retry', kind: 'workflow', status: 'success' });
    // Three hours ago: read from the hourly rollup (whole hours), not from the records.
    const r = (await rows('workflows', { ...alice, isAdmin: true }, 'last_24_hours')).find((x) => x.workflow_name === 'Retry');
    expect((await rows('workflows')).find((x) => x.workflow_name === 'Retry')).toBeUndefined();
    expect(r).toMatchObject({ total_runs: 1, success: 1, failed: 0, total_tokens: 27, total_cost_usd: 0.75 });
    // The rollup holds the same: no row left behind for the replaced outcome.
    const rolled = await env.platform.infra.store.db
      .selectFrom('usage_rollup')
      .select(['kind', 'status', 'calls', 'input_tokens'])
      .where('workflow_id', '=', 'w-retry')
      .orderBy('kind')
      .execute();
    expect(rolled.map((x) => [x.kind, x.status, Number(x.calls), Number(x.input_tokens)])).toEqual([
      ['workflow', 'success', 1, 0],
      ['workflow_state', 'success', 1, 20],
    ]);
  });
});
