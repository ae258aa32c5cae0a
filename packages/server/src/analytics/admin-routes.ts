/** `/v1/admin/activity-events` and `/v1/admin/project-budgets`. */
import { z } from 'zod';
import { defineRoute, Reply, type Route } from '../api/route.js';
import { intQuery } from '../api/schemas.js';
import type { ActivityEvents } from './activity.js';
import { BUDGET_CATEGORIES, type ProjectBudgets } from './budgets.js';

const many = z
  .union([z.string().max(200), z.array(z.string().max(200)).max(100)])
  .optional()
  .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]));

const activityQuery = z.object({
  actor_id: z.string().max(200).optional(),
  domain: many,
  event_type: many,
  entity_type: many,
  entity_id: z.string().max(300).optional(),
  from: z.string().datetime({ offset: true, local: true }).optional(),
  to: z.string().datetime({ offset: true, local: true }).optional(),
  sort_dir: z.enum(['asc', 'desc']).default('desc'),
  limit: intQuery({ min: 1, max: 1000 }).default(50),
  offset: intQuery({ min: 0 }).default(0),
});

const activityItem = z
  .object({
    id: z.string(),
    domain: z.string(),
    event_type: z.string(),
    entity_type: z.string().nullable(),
    entity_id: z.string().nullable(),
    actor_id: z.string().nullable(),
    actor_email: z.string().nullable(),
    actor_name: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'ActivityEventListItem' });

const activityPage = z
  .object({
    data: z.array(activityItem),
    pagination: z.object({ page: z.number(), per_page: z.number(), total: z.number(), pages: z.number() }),
  })
  .meta({ id: 'PaginatedActivityEvents' });

const filterOptions = z
  .object({
    domains: z.array(z.string()),
    event_types: z.array(z.string()),
    entity_types: z.array(z.string()),
    mapping: z.record(z.string(), z.object({ event_types: z.array(z.string()), entity_types: z.array(z.string()) })),
  })
  .meta({ id: 'ActivityEventFilterOptions' });

// Amounts are US dollars. The bound keeps per-member shares and sums exact in a double (and in the
// reference's NUMERIC(18, 9) spend columns); a budget above a trillion dollars is a typo, not a budget.
export const MAX_MONEY = 1e12;
const money = z.number().finite().max(MAX_MONEY, 'at most 1000000000000 (USD)');
const duration = z.string().regex(/^\d+[dhm]$/, "e.g. '30d'");

const createBudget = z.object({
  budget_id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-zA-Z0-9_-]+$/),
  project_name: z.string().min(1).max(100),
  budget_category: z.enum(BUDGET_CATEGORIES),
  name: z.string().min(1).max(128),
  description: z.string().max(500).nullish(),
  soft_budget: money.min(0),
  max_budget: money.gt(0),
  budget_duration: duration,
  allocation_mode: z.enum(['equal']).default('equal'),
  models: z.array(z.string().min(1).max(200)).max(100).nullish(),
});

const updateBudget = z.object({
  name: z.string().min(1).max(128).optional(),
  description: z.string().max(500).nullish(),
  soft_budget: money.min(0).optional(),
  max_budget: money.gt(0).optional(),
  budget_duration: duration.optional(),
  models: z.array(z.string().min(1).max(200)).max(100).nullish(),
});

const allocation = z.object({
  user_id: z.string(),
  allocation_mode: z.string(),
  allocated_soft_budget: z.number(),
  allocated_max_budget: z.number(),
  sync_status: z.string().nullable(),
  budget_id: z.string().nullable(),
});

const budgetSchema = z
  .object({
    budget_id: z.string(),
    project_name: z.string(),
    budget_category: z.enum(BUDGET_CATEGORIES),
    budget_type: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    soft_budget: z.number(),
    max_budget: z.number(),
    budget_duration: z.string(),
    allocation_mode: z.string(),
    budget_reset_at: z.string().nullable(),
    member_count: z.number(),
    allocated_member_budget_total: z.number(),
    provider: z.string().nullable(),
    provider_sync_status: z.string().nullable(),
    provider_last_synced_at: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    member_allocations: z.array(allocation),
    models: z.array(z.string()).nullable(),
  })
  .meta({ id: 'ProjectBudget' });

const idParams = z.object({ budget_id: z.string().min(1).max(200) });
const memberParams = idParams.extend({ user_id: z.string().min(1).max(200) });

export function activityRoutes(events: ActivityEvents): Route[] {
  const tags = ['activity-events'];
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/activity-events/filter-options',
      access: 'admin-or-auditor',
      tags,
      summary: 'Domains, event types and entity types present in the activity log',
      responses: { 200: filterOptions },
      handler: () => events.filterOptions(),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/activity-events',
      access: 'admin-or-auditor',
      tags,
      summary: 'Who created, changed, deleted or assigned what (from the audit log), newest first by default',
      query: activityQuery,
      responses: { 200: activityPage },
      handler: ({ query }) => events.list(query),
    }),
  ];
}

export function budgetRoutes(budgets: ProjectBudgets): Route[] {
  const tags = ['budgets'];
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/project-budgets',
      tags,
      summary: "Create a project's budget for a category (one per project and category)",
      body: createBudget,
      responses: { 201: budgetSchema },
      errors: [403, 404, 409],
      handler: async ({ user, body }) => new Reply(201, await budgets.create(user, body)),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/project-budgets',
      tags,
      summary: 'Project budgets (of one project with `project_name`)',
      query: z.object({
        project_name: z.string().max(100).optional(),
        page: intQuery({ min: 0 }).default(0),
        per_page: intQuery({ min: 1, max: 100 }).default(20),
      }),
      responses: {
        200: z.object({ items: z.array(budgetSchema), total: z.number(), page: z.number(), per_page: z.number() }).meta({ id: 'ProjectBudgetPage' }),
      },
      errors: [403],
      handler: ({ user, query }) => budgets.list(user, query),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/project-budgets/:budget_id',
      tags,
      summary: 'One project budget with its member allocations',
      params: idParams,
      responses: { 200: budgetSchema },
      errors: [403, 404],
      handler: ({ user, params }) => budgets.get(user, params.budget_id),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/admin/project-budgets/:budget_id',
      tags,
      summary: 'Change a project budget (limits, duration, name, models)',
      params: idParams,
      body: updateBudget,
      responses: { 200: budgetSchema },
      errors: [403, 404],
      handler: ({ user, params, body }) => budgets.update(user, params.budget_id, body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/project-budgets/:budget_id',
      tags,
      summary: 'Delete a project budget',
      params: idParams,
      responses: { 204: z.null() },
      errors: [403, 404],
      async handler({ user, params }) {
        await budgets.remove(user, params.budget_id);
        return new Reply(204, null);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/project-budgets/:budget_id/reset',
      tags,
      summary: 'Start a new budget period now',
      params: idParams,
      responses: { 200: budgetSchema },
      errors: [403, 404],
      handler: ({ user, params }) => budgets.reset(user, params.budget_id),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/project-budgets/:budget_id/members',
      tags,
      summary: "The members' allocations of a project budget",
      params: idParams,
      responses: { 200: z.object({ data: z.array(allocation) }) },
      errors: [403, 404],
      handler: ({ user, params }) => budgets.members(user, params.budget_id),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/admin/project-budgets/:budget_id/members/:user_id',
      tags,
      summary: "Override one member's allocation",
      params: memberParams,
      body: z.object({ allocated_max_budget: money.min(0), allocated_soft_budget: money.min(0), override_reason: z.string().max(500).nullish() }),
      responses: { 200: budgetSchema },
      errors: [403, 404],
      handler: ({ user, params, body }) => budgets.override(user, params.budget_id, params.user_id, body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/project-budgets/:budget_id/members/:user_id/override',
      tags,
      summary: "Clear a member's override (back to the equal share)",
      params: memberParams,
      responses: { 200: budgetSchema },
      errors: [403, 404],
      handler: ({ user, params }) => budgets.clearOverride(user, params.budget_id, params.user_id),
    }),
  ];
}
