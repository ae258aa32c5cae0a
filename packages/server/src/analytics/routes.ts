/** `/v1/analytics/*`: the reference's dashboard analytics, from the usage records. */
import { z } from 'zod';
import { defineRoute, type Route } from '../api/route.js';
import { intQuery } from '../api/schemas.js';
import type { AnalyticsService, PageQuery } from './service.js';

const filterQuery = z.object({
  time_period: z.string().max(50).optional(),
  start_date: z.string().max(50).optional(),
  end_date: z.string().max(50).optional(),
  users: z.string().max(10_000).optional(),
  projects: z.string().max(10_000).optional(),
});
const pagedQuery = filterQuery.extend({
  page: intQuery({ min: 0 }).default(0),
  per_page: intQuery({ min: 1, max: 1000 }).default(20),
});

const metadataSchema = z
  .object({
    timestamp: z.string(),
    data_as_of: z.string(),
    filters_applied: z.record(z.string(), z.unknown()),
    execution_time_ms: z.number(),
  })
  .meta({ id: 'AnalyticsMetadata' });

const columnSchema = z.object({
  id: z.string(),
  label: z.string(),
  type: z.string(),
  format: z.string().optional(),
  description: z.string().optional(),
});

export const tabularSchema = z
  .object({
    data: z.object({
      columns: z.array(columnSchema),
      rows: z.array(z.record(z.string(), z.unknown())),
      totals: z.record(z.string(), z.unknown()).nullable(),
    }),
    metadata: metadataSchema,
    pagination: z.object({ page: z.number(), per_page: z.number(), total_count: z.number(), has_more: z.boolean() }),
  })
  .meta({ id: 'AnalyticsTabularResponse' });

const summariesSchema = z
  .object({
    data: z.object({
      metrics: z.array(
        z.object({
          id: z.string(),
          label: z.string(),
          type: z.string(),
          value: z.unknown(),
          format: z.string().optional(),
          description: z.string().optional(),
        }),
      ),
    }),
    metadata: metadataSchema,
  })
  .meta({ id: 'AnalyticsSummariesResponse' });

const usersListSchema = z
  .object({
    data: z.object({ users: z.array(z.object({ id: z.string(), name: z.string() })), total_count: z.number() }),
    metadata: metadataSchema,
  })
  .meta({ id: 'AnalyticsUsersListResponse' });

type Tabular = (s: AnalyticsService) => (viewer: Parameters<AnalyticsService['workflows']>[0], q: PageQuery) => Promise<z.infer<typeof tabularSchema>>;

const TABULAR: Array<[string, string, Tabular]> = [
  ['assistants-chats', 'Assistants: chats, messages per chat, errors, tokens, cost, latency', (s) => s.assistantsChats.bind(s)],
  ['workflows', 'Workflows: runs, success / failure / abort, cost, tokens, time', (s) => s.workflows.bind(s)],
  ['tools-usage', 'Tools: invocations, users, assistants, errors', (s) => s.toolsUsage.bind(s)],
  ['agents-usage', 'Assistants: conversations, cost, users, tools used, tool errors', (s) => s.agentsUsage.bind(s)],
  ['webhooks-invocation', 'Webhook invocations per user, project and alias', (s) => s.webhooksInvocation.bind(s)],
  ['mcp-servers', 'MCP servers by tool calls', (s) => s.mcpServers.bind(s)],
  ['mcp-servers-by-users', 'MCP server tool calls per user', (s) => s.mcpServersByUsers.bind(s)],
  ['projects-spending', 'Money spent per project', (s) => s.projectsSpending.bind(s)],
  ['llms-usage', 'Model calls per model', (s) => s.llmsUsage.bind(s)],
  ['users-spending', 'Money spent per user', (s) => s.usersSpending.bind(s)],
  ['budget-soft-limit', 'Users who reached a soft budget limit, with the most they had spent', (s) => (v, q) => s.budgetLimit(v, q, 'soft')],
  ['budget-hard-limit', 'Users refused by a hard budget limit, with the most they had spent', (s) => (v, q) => s.budgetLimit(v, q, 'hard')],
  ['users-activity', 'Costs and tokens per user, by kind of work', (s) => s.usersActivity.bind(s)],
  ['projects-activity', 'Costs and tokens per project, by kind of work', (s) => s.projectsActivity.bind(s)],
];

export function analyticsRoutes(svc: AnalyticsService): Route[] {
  const tags = ['analytics'];
  return [
    defineRoute({
      method: 'GET',
      path: '/analytics/summaries',
      tags,
      summary: 'Totals: money spent, tokens, assistants and workflows invoked, MCP and webhook calls',
      query: filterQuery,
      responses: { 200: summariesSchema },
      errors: [400],
      handler: ({ user, query }) => svc.summaries(user, query),
    }),
    defineRoute({
      method: 'GET',
      path: '/analytics/users',
      tags,
      summary: 'Users with activity in the time range (`search`: administrators only)',
      query: filterQuery.extend({ search: z.string().max(200).optional() }),
      responses: { 200: usersListSchema },
      errors: [400],
      handler: ({ user, query }) => svc.users(user, query),
    }),
    ...TABULAR.map(([path, summary, fn]) =>
      defineRoute({
        method: 'GET',
        path: `/analytics/${path}`,
        tags,
        summary,
        query: pagedQuery,
        responses: { 200: tabularSchema },
        errors: [400],
        handler: ({ user, query }) => fn(svc)(user, query),
      }),
    ),
  ];
}
