/**
 * The reference's dashboard analytics (/v1/analytics/*), computed from the usage records. Every
 * tabular endpoint groups the filtered rows in SQL, then sorts, pages and totals the groups the
 * way the reference's pipeline does (all groups fetched, the page sliced, totals over all groups).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import type { Database } from '../store/schema.js';
import { filtersApplied, parseFilters, scopeParts, usageWhere, type FilterQuery, type Filters } from './filters.js';

const HOUR = 3_600_000;

export interface Column {
  id: string;
  label: string;
  type: 'string' | 'number' | 'date';
  format?: 'currency' | 'percentage' | 'timestamp' | 'number';
  description?: string;
}

type Row = Record<string, unknown>;

export interface PageQuery extends FilterQuery {
  page: number;
  per_page: number;
}

const EXCLUDED_FROM_TOTALS = [/^unique_/, /_unique_/, /_rate/, /_percent/, /^avg_/, /^median_/, /^min_/, /^max_/, /_per_/, /_timestamp/, /_time$/, /^last_/];

const n = (v: unknown) => (v == null ? 0 : Number(v));
const r2 = (v: number) => Math.round(v * 100) / 100;
const r4 = (v: number) => Math.round(v * 10_000) / 10_000;
const r5 = (v: number) => Math.round(v * 100_000) / 100_000;
const PLATFORM_KINDS = sql`kind in ('assistant', 'workflow_state')`;

function metadata(f: Filters, started: number) {
  const now = new Date().toISOString();
  return { timestamp: now, data_as_of: now, filters_applied: filtersApplied(f), execution_time_ms: r2(performance.now() - started) };
}

function totalsOf(columns: Column[], rows: Row[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (!rows.length) return out;
  for (const c of columns) {
    if (c.type !== 'number' || EXCLUDED_FROM_TOTALS.some((re) => re.test(c.id))) continue;
    out[c.id] = r2(rows.reduce((s, r) => s + n(r[c.id]), 0));
  }
  return out;
}

function tabular(columns: Column[], all: Row[], q: PageQuery, f: Filters, started: number) {
  const rows = all.slice(q.page * q.per_page, (q.page + 1) * q.per_page);
  return {
    data: { columns, rows, totals: totalsOf(columns, all) },
    metadata: metadata(f, started),
    pagination: { page: q.page, per_page: q.per_page, total_count: all.length, has_more: (q.page + 1) * q.per_page < all.length },
  };
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const byDesc = (key: string, tie: string) => (a: Row, b: Row) => n(b[key]) - n(a[key]) || String(a[tie]).localeCompare(String(b[tie]));

/**
 * The usage between `start` and `end` (both inclusive) matching `scope`, as rows of the rollup's
 * shape: whole hours from the hourly rollup, the partial hours at the edges from the records
 * themselves (exact either way). `scope`: conditions on columns both tables have (project, user_id,
 * kind, ...). Used by every analytics view and by the budget check.
 */
export function usageSource(scope: RawBuilder<unknown>[], startAt: Date, endAt: Date): RawBuilder<unknown> {
  const start = startAt.toISOString();
  const end = endAt.toISOString();
  // The first whole hour at or after the start; the hour the end falls in (not whole).
  const firstHour = new Date(Math.ceil(startAt.getTime() / HOUR) * HOUR);
  const lastHour = new Date(Math.floor(endAt.getTime() / HOUR) * HOUR);
  const and = (parts: RawBuilder<unknown>[]) => (parts.length ? sql.join(parts, sql` and `) : sql`1 = 1`);
  const raw = (
    cond: RawBuilder<unknown>,
  ) => sql`select kind, project, user_id, user_name, assistant_id, assistant_name, workflow_id, workflow_name, model, tool_name,
      tool_type, mcp_server, webhook_alias, status, error_class, case when kind = 'assistant' then conversation_id end as conversation_id, 1 as calls,
      input_tokens, output_tokens, cached_tokens, money_spent, latency_ms, date as last_date
    from usage_records where ${and([...scope, cond])}`;
  if (firstHour >= lastHour) return sql`(${raw(sql`date >= ${start} and date <= ${end}`)})`;
  const bucket = (d: Date) => d.toISOString().slice(0, 13);
  const rolled = sql`select kind, project, user_id, user_name, nullif(assistant_id, '') as assistant_id, nullif(assistant_name, '') as assistant_name,
      nullif(workflow_id, '') as workflow_id, nullif(workflow_name, '') as workflow_name, nullif(model, '') as model, nullif(tool_name, '') as tool_name,
      nullif(tool_type, '') as tool_type, nullif(mcp_server, '') as mcp_server, nullif(webhook_alias, '') as webhook_alias, status,
      nullif(error_class, '') as error_class, nullif(conversation_id, '') as conversation_id, calls, input_tokens, output_tokens, cached_tokens,
      money_spent, latency_ms, last_date
    from usage_rollup where ${and([...scope, sql`bucket >= ${bucket(firstHour)} and bucket < ${bucket(lastHour)}`])}`;
  // The partial first and last hours, each an index range of its own.
  return sql`(${rolled} union all ${raw(sql`date >= ${start} and date < ${firstHour.toISOString()}`)} union all ${raw(sql`date >= ${lastHour.toISOString()} and date <= ${end}`)})`;
}

export class AnalyticsService {
  constructor(private readonly db: Kysely<Database>) {}

  /** Users' e-mails by id (the reference resolves user columns to e-mails); the stored name when unknown. */
  private async names(rows: Row[]): Promise<void> {
    const ids = [...new Set(rows.map((r) => r.user_id).filter((x): x is string => typeof x === 'string'))];
    const found = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      for (const u of await this.db.selectFrom('idp_users').select(['id', 'email']).where('id', 'in', part).execute()) if (u.email) found.set(u.id, u.email);
    }
    for (const r of rows) if (typeof r.user_id === 'string' && found.has(r.user_id)) r.user_name = found.get(r.user_id);
  }

  private source(viewer: AuthUser, f: Filters): RawBuilder<unknown> {
    return usageSource(scopeParts(viewer, f), f.start, f.end);
  }

  private async rows<T = Row>(
    viewer: AuthUser,
    f: Filters,
    select: RawBuilder<unknown>,
    extra: RawBuilder<unknown>[],
    groupBy: RawBuilder<unknown> | null,
  ): Promise<T[]> {
    const where = extra.length ? sql.join(extra, sql` and `) : sql`1 = 1`;
    const src = this.source(viewer, f);
    const q = groupBy ? sql<T>`select ${select} from ${src} src where ${where} group by ${groupBy}` : sql<T>`select ${select} from ${src} src where ${where}`;
    return (await q.execute(this.db)).rows;
  }

  async summaries(viewer: AuthUser, q: FilterQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const [r] = await this.rows(
      viewer,
      f,
      sql`coalesce(sum(money_spent), 0) as money,
        coalesce(sum(case when ${PLATFORM_KINDS} then money_spent else 0 end), 0) as platform,
        coalesce(sum(input_tokens), 0) as input, coalesce(sum(output_tokens), 0) as output, coalesce(sum(cached_tokens), 0) as cached,
        count(distinct case when kind = 'assistant' then assistant_id end) as assistants,
        coalesce(sum(case when kind = 'workflow' then calls else 0 end), 0) as workflows,
        coalesce(sum(case when kind = 'tool' and mcp_server is not null then calls else 0 end), 0) as mcps,
        coalesce(sum(case when kind = 'webhook' then calls else 0 end), 0) as webhooks`,
      [],
      null,
    );
    const input = n(r?.input);
    const output = n(r?.output);
    const cached = n(r?.cached);
    const metric = (id: string, label: string, value: number, format: string, description: string) => ({
      id,
      label,
      type: 'number',
      value,
      format,
      description,
    });
    return {
      data: {
        metrics: [
          metric('total_money_spent', 'Total Money Spent', r2(n(r?.money)), 'currency', 'Total cost across all usage types'),
          metric('platform_cost', 'Platform LLM Cost', r2(n(r?.platform)), 'currency', 'Platform LLM cost (conversations, workflows)'),
          metric('cli_cost', 'CLI Cost', 0, 'currency', 'CLI operations cost'),
          metric('total_tokens', 'Total Tokens', input + output + cached, 'number', 'Total LLM tokens'),
          metric('total_input_tokens', 'LLM Input Tokens', input, 'number', 'LLM input tokens'),
          metric('total_cached_input_tokens', 'Total Cache Read Tokens', cached, 'number', 'Cached input tokens (prompt caching)'),
          metric('total_cache_creation_tokens', 'Total Cache Creation Tokens', 0, 'number', 'Cache creation tokens'),
          metric('total_output_tokens', 'LLM Output Tokens', output, 'number', 'LLM output tokens'),
          metric('unique_assistants_invoked', 'Unique Assistants Invoked', n(r?.assistants), 'number', 'Distinct assistants invoked'),
          metric('unique_workflows_invoked', 'Total Workflow Invocations', n(r?.workflows), 'number', 'Workflow executions'),
          metric('cli_invoked', 'CLI Invoked', 0, 'number', 'CLI invocations'),
          metric('mcps_invoked', 'MCPs Invoked', n(r?.mcps), 'number', 'MCP invocations'),
          metric('webhooks_invoked', 'Webhooks Invoked', n(r?.webhooks), 'number', 'Webhook invocations'),
          metric('skills_invoked', 'Skills Invoked', 0, 'number', 'Skill invocations'),
        ],
      },
      metadata: metadata(f, started),
    };
  }

  async users(viewer: AuthUser, q: FilterQuery & { search?: string }) {
    const started = performance.now();
    const f = parseFilters(q);
    const extra = q.search && viewer.isAdmin ? [sql`lower(user_name) like ${`%${q.search.toLowerCase()}%`}`] : [];
    const rows = await this.rows(viewer, f, sql`user_id, max(user_name) as user_name`, extra, sql`user_id`);
    await this.names(rows);
    const users = rows.map((r) => ({ id: String(r.user_id), name: String(r.user_name) })).sort((a, b) => a.name.localeCompare(b.name));
    return { data: { users, total_count: users.length }, metadata: metadata(f, started) };
  }

  /** users-activity / projects-activity: costs and tokens per kind of work. */
  private async activity(viewer: AuthUser, q: PageQuery, by: 'user' | 'project') {
    const started = performance.now();
    const f = parseFilters(q);
    const key = by === 'user' ? sql`user_id` : sql`project`;
    const rows = await this.rows(
      viewer,
      f,
      sql`${key} as k, max(user_id) as user_id, max(user_name) as user_name, count(distinct ${by === 'user' ? sql`project` : sql`user_id`}) as uniq,
        coalesce(sum(case when kind = 'assistant' then money_spent else 0 end), 0) as assistant_cost,
        coalesce(sum(case when kind = 'workflow_state' then money_spent else 0 end), 0) as workflow_cost,
        coalesce(sum(case when kind = 'datasource' then money_spent else 0 end), 0) as datasource_cost,
        coalesce(sum(money_spent), 0) as total_cost,
        coalesce(sum(case when kind = 'assistant' then input_tokens + output_tokens + cached_tokens else 0 end), 0) as assistant_tokens,
        coalesce(sum(case when kind = 'workflow_state' then input_tokens + output_tokens + cached_tokens else 0 end), 0) as workflow_tokens,
        coalesce(sum(case when kind = 'datasource' then input_tokens + output_tokens + cached_tokens else 0 end), 0) as datasource_tokens`,
      [],
      key,
    );
    await this.names(rows);
    const label = by === 'user' ? 'user_email' : 'project_name';
    const out = rows.map((r) => ({
      [label]: by === 'user' ? r.user_name : r.k,
      [by === 'user' ? 'unique_projects' : 'unique_users']: n(r.uniq),
      assistant_cost: r4(n(r.assistant_cost)),
      workflow_cost: r4(n(r.workflow_cost)),
      datasource_cost: r4(n(r.datasource_cost)),
      cli_cost: 0,
      total_cost: r4(n(r.total_cost)),
      assistant_tokens: n(r.assistant_tokens),
      workflow_tokens: n(r.workflow_tokens),
      datasource_tokens: n(r.datasource_tokens),
      llm_tokens: n(r.assistant_tokens) + n(r.workflow_tokens),
    }));
    out.sort(byDesc('total_cost', label));
    const columns: Column[] = [
      by === 'user' ? { id: 'user_email', label: 'User', type: 'string' } : { id: 'project_name', label: 'Project', type: 'string' },
      by === 'user' ? { id: 'unique_projects', label: 'Unique Projects', type: 'number' } : { id: 'unique_users', label: 'Unique Users', type: 'number' },
      { id: 'assistant_cost', label: 'Assistant Cost ($)', type: 'number', format: 'currency' },
      { id: 'workflow_cost', label: 'Workflow Cost ($)', type: 'number', format: 'currency' },
      { id: 'datasource_cost', label: 'Datasource Cost ($)', type: 'number', format: 'currency' },
      { id: 'cli_cost', label: 'CLI Cost ($)', type: 'number', format: 'currency' },
      { id: 'total_cost', label: 'Total Cost ($)', type: 'number', format: 'currency' },
      { id: 'assistant_tokens', label: 'Assistant Tokens', type: 'number' },
      { id: 'workflow_tokens', label: 'Workflow Tokens', type: 'number' },
      { id: 'datasource_tokens', label: 'Datasource Tokens', type: 'number' },
      { id: 'llm_tokens', label: 'LLM Tokens', type: 'number' },
    ];
    return tabular(columns, out, q, f, started);
  }

  usersActivity(viewer: AuthUser, q: PageQuery) {
    return this.activity(viewer, q, 'user');
  }

  projectsActivity(viewer: AuthUser, q: PageQuery) {
    return this.activity(viewer, q, 'project');
  }

  private async spending(viewer: AuthUser, q: PageQuery, by: 'user' | 'project') {
    const started = performance.now();
    const f = parseFilters(q);
    const key = by === 'user' ? sql`user_id` : sql`project`;
    const rows = await this.rows(
      viewer,
      f,
      sql`${key} as k, max(user_id) as user_id, max(user_name) as user_name, coalesce(sum(money_spent), 0) as cost`,
      [],
      key,
    );
    if (by === 'user') await this.names(rows);
    const label = by === 'user' ? 'user_email' : 'project_name';
    const out = rows.map((r) => ({ [label]: by === 'user' ? r.user_name : r.k, total_cost_usd: r4(n(r.cost)) }));
    out.sort(byDesc('total_cost_usd', label));
    const columns: Column[] = [
      by === 'user' ? { id: 'user_email', label: 'User Email', type: 'string' } : { id: 'project_name', label: 'Project', type: 'string' },
      { id: 'total_cost_usd', label: 'Total Cost ($)', type: 'number', format: 'currency' },
    ];
    return tabular(columns, out, q, f, started);
  }

  usersSpending(viewer: AuthUser, q: PageQuery) {
    return this.spending(viewer, q, 'user');
  }

  projectsSpending(viewer: AuthUser, q: PageQuery) {
    return this.spending(viewer, q, 'project');
  }

  async assistantsChats(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const kind = [sql`kind = 'assistant'`];
    const groups = await this.rows(
      viewer,
      f,
      sql`coalesce(assistant_id, '') as id, max(assistant_name) as name, count(distinct conversation_id) as chats, sum(calls) as messages,
        count(distinct user_id) as users, coalesce(sum(case when status = 'success' then calls else 0 end), 0) as ok,
        coalesce(sum(case when status = 'error' then calls else 0 end), 0) as errors,
        coalesce(sum(input_tokens + output_tokens + cached_tokens), 0) as tokens, coalesce(sum(money_spent), 0) as cost,
        coalesce(sum(latency_ms), 0) as latency, max(case when status = 'error' then last_date end) as last_error`,
      kind,
      sql`coalesce(assistant_id, '')`,
    );
    // Messages per chat (min / median / avg / max): the per-conversation counts of each assistant.
    const perChat = await this.rows<{ id: string; c: unknown }>(
      viewer,
      f,
      sql`coalesce(assistant_id, '') as id, sum(calls) as c`,
      kind,
      sql`coalesce(assistant_id, ''), conversation_id`,
    );
    const counts = new Map<string, number[]>();
    for (const r of perChat) (counts.get(r.id) ?? counts.set(r.id, []).get(r.id)!).push(n(r.c));
    const out = groups.map((g) => {
      const cs = counts.get(String(g.id)) ?? [];
      const ops = n(g.messages);
      return {
        assistant: g.name ?? g.id,
        total_chats: n(g.chats),
        total_messages: ops,
        unique_users: n(g.users),
        min_msg_per_chat: cs.length ? Math.min(...cs) : 0,
        median_msg_per_chat: r2(median(cs)),
        avg_msg_per_chat: cs.length ? r2(cs.reduce((a, b) => a + b, 0) / cs.length) : 0,
        max_msg_per_chat: cs.length ? Math.max(...cs) : 0,
        success_ops: n(g.ok),
        total_errors: n(g.errors),
        error_rate_percent: ops ? r2((n(g.errors) / ops) * 100) : 0,
        total_tokens: n(g.tokens),
        total_cost_usd: r4(n(g.cost)),
        cost_per_op_usd: ops ? r5(n(g.cost) / ops) : 0,
        avg_time_seconds: ops ? r2(n(g.latency) / ops / 1000) : 0,
        last_error_timestamp: (g.last_error as string | null) ?? null,
      };
    });
    out.sort(byDesc('total_messages', 'assistant'));
    const columns: Column[] = [
      { id: 'assistant', label: 'Assistant', type: 'string' },
      { id: 'total_chats', label: 'Total Chats', type: 'number' },
      { id: 'total_messages', label: 'Total Messages', type: 'number' },
      { id: 'unique_users', label: 'Unique Users', type: 'number' },
      { id: 'min_msg_per_chat', label: 'Min Msg/Chat', type: 'number' },
      { id: 'median_msg_per_chat', label: 'Median Msg/Chat', type: 'number' },
      { id: 'avg_msg_per_chat', label: 'Avg Msg/Chat', type: 'number' },
      { id: 'max_msg_per_chat', label: 'Max Msg/Chat', type: 'number' },
      { id: 'success_ops', label: 'Success Ops', type: 'number' },
      { id: 'total_errors', label: 'Total Errors', type: 'number' },
      { id: 'error_rate_percent', label: 'Error Rate (%)', type: 'number', format: 'percentage' },
      { id: 'total_tokens', label: 'Total Tokens', type: 'number' },
      { id: 'total_cost_usd', label: 'Total Cost ($)', type: 'number', format: 'currency' },
      { id: 'cost_per_op_usd', label: 'Cost/Op ($)', type: 'number', format: 'currency' },
      { id: 'avg_time_seconds', label: 'Avg Time (s)', type: 'number' },
      { id: 'last_error_timestamp', label: 'Last Error Time', type: 'string', format: 'timestamp' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async agentsUsage(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const groups = await this.rows(
      viewer,
      f,
      sql`coalesce(assistant_id, '') as id, max(assistant_name) as name,
        count(distinct case when kind = 'assistant' then conversation_id end) as conversations,
        coalesce(sum(money_spent), 0) as cost, count(distinct user_id) as users,
        count(distinct case when kind = 'tool' then tool_name end) as tools,
        coalesce(sum(case when kind = 'tool' and status = 'error' then calls else 0 end), 0) as tool_errors,
        max(case when kind = 'tool' and status = 'error' then last_date || '|' || coalesce(error_class, '') end) as last_error`,
      [sql`kind in ('assistant', 'tool')`, sql`assistant_id is not null`],
      sql`coalesce(assistant_id, '')`,
    );
    const out = groups.map((g) => ({
      assistant_name: g.name ?? g.id,
      total_conversations: n(g.conversations),
      total_cost: r4(n(g.cost)),
      unique_users: n(g.users),
      unique_tools_used: n(g.tools),
      tool_errors: n(g.tool_errors),
      last_error: g.last_error ? String(g.last_error).split('|').slice(1).join('|') || null : null,
    }));
    out.sort(byDesc('total_conversations', 'assistant_name'));
    const columns: Column[] = [
      { id: 'assistant_name', label: 'Assistant Name', type: 'string' },
      { id: 'total_conversations', label: 'Total Conversations', type: 'number' },
      { id: 'total_cost', label: 'Total Cost ($)', type: 'number', format: 'currency' },
      { id: 'unique_users', label: 'Unique Users', type: 'number' },
      { id: 'unique_tools_used', label: 'Unique Tools Used', type: 'number' },
      { id: 'tool_errors', label: 'Tool Errors', type: 'number' },
      { id: 'last_error', label: 'Last Error', type: 'string' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async workflows(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const groups = await this.rows(
      viewer,
      f,
      sql`workflow_id as id, max(workflow_name) as name, coalesce(sum(case when kind = 'workflow' then calls else 0 end), 0) as runs,
        coalesce(sum(case when kind = 'workflow' and status = 'success' then calls else 0 end), 0) as ok,
        coalesce(sum(case when kind = 'workflow' and status = 'error' then calls else 0 end), 0) as failed,
        coalesce(sum(case when kind = 'workflow' and status = 'aborted' then calls else 0 end), 0) as aborted,
        coalesce(sum(money_spent), 0) as cost, coalesce(sum(input_tokens + output_tokens), 0) as tokens,
        coalesce(sum(case when kind = 'workflow' then latency_ms else 0 end), 0) as latency, count(distinct user_id) as users, max(last_date) as last_run`,
      [sql`kind in ('workflow', 'workflow_state')`, sql`workflow_id is not null`],
      sql`workflow_id`,
    );
    const out = groups.map((g) => {
      const runs = n(g.runs);
      return {
        workflow_name: g.name ?? g.id,
        total_runs: runs,
        success: n(g.ok),
        failed: n(g.failed),
        aborted: n(g.aborted),
        success_rate_percent: runs ? r2((n(g.ok) / runs) * 100) : 0,
        total_cost_usd: r4(n(g.cost)),
        avg_cost_usd: runs ? r5(n(g.cost) / runs) : 0,
        total_tokens: n(g.tokens),
        avg_time_seconds: runs ? r2(n(g.latency) / runs / 1000) : 0,
        users: n(g.users),
        last_run: g.last_run as string,
      };
    });
    out.sort(byDesc('total_runs', 'workflow_name'));
    const columns: Column[] = [
      { id: 'workflow_name', label: 'Workflow Name', type: 'string' },
      { id: 'total_runs', label: 'Total Runs', type: 'number' },
      { id: 'success', label: 'Success', type: 'number' },
      { id: 'failed', label: 'Failed', type: 'number' },
      { id: 'aborted', label: 'Aborted', type: 'number' },
      { id: 'success_rate_percent', label: 'Success Rate (%)', type: 'number', format: 'percentage' },
      { id: 'total_cost_usd', label: 'Total Cost ($)', type: 'number', format: 'currency' },
      { id: 'avg_cost_usd', label: 'Avg Cost ($)', type: 'number', format: 'currency' },
      { id: 'total_tokens', label: 'Total Tokens', type: 'number' },
      { id: 'avg_time_seconds', label: 'Avg Time (s)', type: 'number' },
      { id: 'users', label: 'Users', type: 'number' },
      { id: 'last_run', label: 'Last Run', type: 'string', format: 'timestamp' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async toolsUsage(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const groups = await this.rows(
      viewer,
      f,
      sql`tool_name as name, max(tool_type) as type, sum(calls) as calls, count(distinct user_id) as users,
        count(distinct coalesce(assistant_id, workflow_id)) as assistants, coalesce(sum(input_tokens + output_tokens), 0) as tokens,
        coalesce(sum(case when status = 'error' then calls else 0 end), 0) as errors,
        max(case when status = 'error' then last_date || '|' || coalesce(error_class, '') end) as last_error`,
      [sql`kind = 'tool'`],
      sql`tool_name`,
    );
    const out = groups.map((g) => ({
      tool_name: g.name,
      tool_type: g.type,
      total_invocations: n(g.calls),
      unique_users: n(g.users),
      unique_assistants: n(g.assistants),
      total_tokens: n(g.tokens),
      total_errors: n(g.errors),
      last_error_class: g.last_error ? String(g.last_error).split('|').slice(1).join('|') || null : null,
    }));
    out.sort(byDesc('total_invocations', 'tool_name'));
    const columns: Column[] = [
      { id: 'tool_name', label: 'Tool Name', type: 'string' },
      { id: 'tool_type', label: 'Tool Type', type: 'string' },
      { id: 'total_invocations', label: 'Total Invocations', type: 'number' },
      { id: 'unique_users', label: 'Unique Users', type: 'number' },
      { id: 'unique_assistants', label: 'Unique Assistants', type: 'number' },
      { id: 'total_tokens', label: 'Total Tokens', type: 'number' },
      { id: 'total_errors', label: 'Total Errors', type: 'number' },
      { id: 'last_error_class', label: 'Last Error', type: 'string' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async llmsUsage(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    // Model calls that did not fail (the reference leaves errors out).
    const groups = await this.rows(
      viewer,
      f,
      sql`model as name, sum(calls) as calls`,
      [PLATFORM_KINDS, sql`model is not null`, sql`status <> 'error'`],
      sql`model`,
    );
    const out = groups.map((g) => ({ model_name: g.name, total_requests: n(g.calls) }));
    out.sort(byDesc('total_requests', 'model_name'));
    const columns: Column[] = [
      { id: 'model_name', label: 'Model', type: 'string' },
      { id: 'total_requests', label: 'Total Requests', type: 'number' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async mcpServers(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const groups = await this.rows(viewer, f, sql`mcp_server as name, sum(calls) as calls`, [sql`kind = 'tool'`, sql`mcp_server is not null`], sql`mcp_server`);
    const out = groups.map((g) => ({ mcp_name: g.name, total_requests: n(g.calls) }));
    out.sort(byDesc('total_requests', 'mcp_name'));
    const columns: Column[] = [
      { id: 'mcp_name', label: 'MCP Server', type: 'string' },
      { id: 'total_requests', label: 'Total Requests', type: 'number' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async mcpServersByUsers(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const groups = await this.rows(
      viewer,
      f,
      sql`user_id, max(user_name) as user_name, mcp_server as name, sum(calls) as calls`,
      [sql`kind = 'tool'`, sql`mcp_server is not null`],
      sql`user_id, mcp_server`,
    );
    await this.names(groups);
    const out = groups.map((g) => ({ user_name: g.user_name, mcp_name: g.name, total_requests: n(g.calls) }));
    out.sort(
      (a, b) =>
        b.total_requests - a.total_requests || String(a.user_name).localeCompare(String(b.user_name)) || String(a.mcp_name).localeCompare(String(b.mcp_name)),
    );
    const columns: Column[] = [
      { id: 'user_name', label: 'User', type: 'string' },
      { id: 'mcp_name', label: 'MCP Server', type: 'string' },
      { id: 'total_requests', label: 'Total Requests', type: 'number' },
    ];
    return tabular(columns, out, q, f, started);
  }

  async webhooksInvocation(viewer: AuthUser, q: PageQuery) {
    const started = performance.now();
    const f = parseFilters(q);
    const groups = await this.rows(
      viewer,
      f,
      sql`user_id, max(user_name) as user_name, project, webhook_alias as alias, sum(calls) as calls`,
      [sql`kind = 'webhook'`],
      sql`user_id, project, webhook_alias`,
    );
    await this.names(groups);
    const out = groups.map((g) => ({ user_id: g.user_name, project: g.project, webhook_alias: g.alias, total_invocations: n(g.calls) }));
    out.sort((a, b) => b.total_invocations - a.total_invocations || String(a.webhook_alias).localeCompare(String(b.webhook_alias)));
    const columns: Column[] = [
      { id: 'user_id', label: 'User Email', type: 'string' },
      { id: 'project', label: 'Project', type: 'string' },
      { id: 'webhook_alias', label: 'Webhook Alias', type: 'string' },
      { id: 'total_invocations', label: 'Total Invocations', type: 'number' },
    ];
    return tabular(columns, out, q, f, started);
  }

  /** Soft-limit warnings / hard-limit refusals per user: the most the user had spent when one happened. */
  async budgetLimit(viewer: AuthUser, q: PageQuery, kind: 'soft' | 'hard') {
    const started = performance.now();
    const f = parseFilters(q);
    const where = usageWhere(viewer, f, [sql`kind = ${kind}`]);
    const groups = (
      await sql<Row>`select user_id, max(user_name) as user_name, max(spent) as spent from budget_events where ${where} group by user_id`.execute(this.db)
    ).rows;
    await this.names(groups);
    const out = groups.map((g) => ({ user_email: g.user_name, max_spent: r2(n(g.spent)) }));
    out.sort(byDesc('max_spent', 'user_email'));
    const columns: Column[] = [
      { id: 'user_email', label: 'User', type: 'string' },
      { id: 'max_spent', label: 'Max Spent ($)', type: 'number', format: 'currency' },
    ];
    return tabular(columns, out, q, f, started);
  }
}
